"""Webhooks of an account, and the deliveries an event makes for them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.ids import new_id
from herald.domain.webhooks import envelope
from herald.models import Webhook, WebhookDelivery


class WebhookStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_account(self, account_id: str) -> Sequence[Webhook]:
        query = select(Webhook).where(Webhook.account_id == account_id)
        return (await self._session.scalars(query.order_by(Webhook.created_at, Webhook.id))).all()

    async def count(self, account_id: str) -> int:
        query = select(func.count()).select_from(Webhook).where(Webhook.account_id == account_id)
        return int((await self._session.execute(query)).scalar_one())

    async def find(self, account_id: str, webhook_id: str, *, lock: bool = False) -> Webhook | None:
        query = select(Webhook).where(Webhook.id == webhook_id, Webhook.account_id == account_id)
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def add(self, webhook: Webhook) -> Webhook:
        self._session.add(webhook)
        await self._session.flush()
        return webhook

    async def delete(self, webhook: Webhook) -> None:
        await self._session.delete(webhook)
        await self._session.flush()

    async def enqueue(
        self, events: Sequence[tuple[str, str, dict[str, Any]]], now: datetime
    ) -> int:
        """Deliveries for (account id, event, data) triples, one per active webhook of the
        account that subscribes to the event, in the caller's transaction: the change that
        causes an event and its deliveries commit together. One query finds the webhooks; a
        batch of events whose accounts have none costs only that query."""
        accounts = {account_id for account_id, _, _ in events}
        if not accounts:
            return 0
        rows = await self._session.execute(
            select(Webhook.id, Webhook.account_id, Webhook.events)
            .where(Webhook.account_id.in_(sorted(accounts)), Webhook.is_active.is_(True))
            .order_by(Webhook.id)
        )
        hooks: dict[str, list[tuple[str, list[str]]]] = {}
        for webhook_id, account_id, subscribed in rows:
            hooks.setdefault(account_id, []).append((webhook_id, subscribed))
        values = [
            {
                "id": new_id(),
                "webhook_id": webhook_id,
                "event": event,
                "body": envelope(event, data, now),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for account_id, event, data in events
            for webhook_id, subscribed in hooks.get(account_id, [])
            if event in subscribed
        ]
        if values:
            await self._session.execute(insert(WebhookDelivery), values)
        return len(values)
