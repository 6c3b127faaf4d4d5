"""The delivery queue: each webhook's oldest pending delivery is the only one sent, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from herald.domain.ids import new_id
from herald.domain.webhooks import MAX_CONSECUTIVE_FAILURES
from herald.models import Webhook, WebhookDelivery

D = WebhookDelivery
LOG_LIMIT = 100


@dataclass(frozen=True)
class DueDelivery:
    seq: int
    id: str
    event: str
    body: str
    attempts: int
    created_at: datetime
    url: str
    sealed_secret: bytes


class DeliveryStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[DueDelivery]:
        """Lease the due heads of active webhooks' queues. A head is a webhook's oldest pending
        delivery, so a later event never overtakes one still being retried; rows another
        deliverer holds are skipped, not waited for."""
        older = aliased(D)
        heads = (
            select(D.seq)
            .join(Webhook, Webhook.id == D.webhook_id)
            .where(
                D.status == "pending",
                D.next_attempt_at <= now,
                (D.lease_until.is_(None)) | (D.lease_until < now),
                Webhook.is_active.is_(True),
                ~exists().where(
                    older.webhook_id == D.webhook_id,
                    older.status == "pending",
                    older.seq < D.seq,
                ),
            )
            .order_by(D.seq)
            .limit(limit)
            .with_for_update(of=D, skip_locked=True)
        )
        seqs = list((await self._session.scalars(heads)).all())
        if not seqs:
            return []
        await self._session.execute(
            update(D).where(D.seq.in_(seqs)).values(lease_until=now + lease),
            execution_options={"synchronize_session": False},
        )
        rows = await self._session.execute(
            select(D, Webhook.url, Webhook.secret)
            .join(Webhook, Webhook.id == D.webhook_id)
            .where(D.seq.in_(seqs))
            .order_by(D.seq)
        )
        return [
            DueDelivery(d.seq, d.id, d.event, d.body, d.attempts, d.created_at, url, secret)
            for d, url, secret in rows
        ]

    async def delivered(self, seq: int, status_code: int, now: datetime) -> None:
        delivery = await self._session.get(D, seq)
        if delivery is None:  # its webhook was deleted meanwhile
            return
        _attempted(delivery, now, status_code, None)
        delivery.status, delivery.delivered_at = "delivered", now
        await self._session.execute(
            update(Webhook)
            .where(Webhook.id == delivery.webhook_id)
            .values(failure_count=0, last_triggered_at=now),
            execution_options={"synchronize_session": False},
        )

    async def failed(
        self,
        seq: int,
        status_code: int | None,
        error: str,
        now: datetime,
        retry_at: datetime | None,
    ) -> bool:
        """Another try at `retry_at`, or, when None, the delivery is given up: it counts as a
        failed delivery, and the webhook is disabled after enough in a row. True if disabled."""
        delivery = await self._session.get(D, seq)
        if delivery is None:
            return False
        _attempted(delivery, now, status_code, error)
        values: dict[str, object] = {"last_triggered_at": now}
        if retry_at is not None:
            delivery.next_attempt_at = retry_at
        else:
            delivery.status = "failed"
            values["failure_count"] = Webhook.failure_count + 1
        await self._session.execute(
            update(Webhook).where(Webhook.id == delivery.webhook_id).values(values),
            execution_options={"synchronize_session": False},
        )
        if retry_at is not None:
            return False
        disabled = await self._session.execute(
            update(Webhook)
            .where(
                Webhook.id == delivery.webhook_id,
                Webhook.failure_count >= MAX_CONSECUTIVE_FAILURES,
                Webhook.is_active.is_(True),
            )
            .values(is_active=False),
            execution_options={"synchronize_session": False},
        )
        return bool(disabled.rowcount)  # type: ignore[attr-defined]

    async def log(self, webhook_id: str) -> Sequence[WebhookDelivery]:
        query = select(D).where(D.webhook_id == webhook_id).order_by(D.seq.desc()).limit(LOG_LIMIT)
        return (await self._session.scalars(query)).all()

    async def find(self, webhook_id: str, delivery_id: str) -> WebhookDelivery | None:
        return await self._session.scalar(
            select(D).where(D.webhook_id == webhook_id, D.id == delivery_id)
        )

    async def redeliver(self, original: WebhookDelivery, now: datetime) -> WebhookDelivery:
        """A new delivery of the same signed body, queued behind the webhook's others."""
        copy = D(
            id=new_id(),
            webhook_id=original.webhook_id,
            event=original.event,
            body=original.body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        self._session.add(copy)
        await self._session.flush()
        return copy


def _attempted(
    delivery: WebhookDelivery, now: datetime, code: int | None, error: str | None
) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = code
    delivery.last_error = error
    delivery.lease_until = None
