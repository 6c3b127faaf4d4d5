"""Webhook delivery: the engine sends each webhook's queued deliveries, in order, signed."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db.engine import unit_of_work
from herald.domain.timestamps import utc_now
from herald.domain.webhooks import RETRY_WINDOW, retry_delay, signed_headers
from herald.net.egress import EgressDenied, EgressPolicy
from herald.net.http_client import HttpClient, HttpError, InvalidUrl
from herald.services.secret_box import SecretBox
from herald.store.webhook_delivery import DeliveryStore, DueDelivery

logger = logging.getLogger("herald.webhooks")
BATCH = 50
CONNECTIONS = 20
# Longer than a send can take (the client cuts an exchange after three timeouts), so a lease
# only runs out when its deliverer died; the delivery is then sent again, which is why
# receivers get X-Herald-Delivery to drop repeats by.
_LEASE_MARGIN = timedelta(seconds=30)


class WebhookDeliverer:
    def __init__(
        self, settings: Settings, sessions: async_sessionmaker[AsyncSession], box: SecretBox
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._base = timedelta(seconds=settings.webhook_retry_base_seconds)
        self._lease = timedelta(seconds=3 * settings.webhook_timeout_seconds) + _LEASE_MARGIN
        # Its own policy, without the engine's trusted sandbox origin: a tenant's URL is
        # judged by its addresses alone.
        egress = EgressPolicy(allow=tuple(settings.egress_allow))
        self._client = HttpClient(CONNECTIONS, settings.webhook_timeout_seconds, egress=egress)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def deliver(self) -> None:
        """Send what is due, batch after batch, until a batch comes back short."""
        while await self._deliver_batch() == BATCH:
            pass

    async def _deliver_batch(self) -> int:
        async with unit_of_work(self._sessions) as session:
            due = await DeliveryStore(session).claim(utc_now(), self._lease, BATCH)
        await asyncio.gather(*(self._send(delivery) for delivery in due))
        return len(due)

    async def _send(self, delivery: DueDelivery) -> None:
        body = delivery.body.encode()
        status: int | None = None
        error: str | None = None
        try:
            secret = str(self._box.open(delivery.sealed_secret)["secret"])
        except ValueError:  # sealed under a key no longer in the ring: nothing can sign it
            await self._record(delivery, None, "SECRET_UNREADABLE", utc_now())
            return
        headers = signed_headers(secret, delivery.event, delivery.id, body, int(time.time()))
        try:
            answer = await self._client.post(delivery.url, content=body, headers=headers)
            status = answer.status_code
            error = None if answer.is_success else f"HTTP {status}"
        except HttpError as exc:
            error = exc.kind
        except EgressDenied:
            error = "EGRESS_DENIED"
        except InvalidUrl:
            error = "INVALID_URL"
        await self._record(delivery, status, error, utc_now())

    async def _record(
        self, delivery: DueDelivery, status: int | None, error: str | None, now: datetime
    ) -> None:
        async with unit_of_work(self._sessions) as session:
            store = DeliveryStore(session)
            if error is None and status is not None:
                await store.delivered(delivery.seq, status, now)
                return
            retry_at: datetime | None = now + retry_delay(delivery.attempts + 1, self._base)
            if retry_at is not None and retry_at > delivery.created_at + RETRY_WINDOW:
                retry_at = None
            disabled = await store.failed(delivery.seq, status, error or "", now, retry_at)
        logger.info(
            "webhook.failed delivery=%s attempts=%d error=%s given_up=%s disabled=%s",
            delivery.id,
            delivery.attempts + 1,
            error,
            retry_at is None,
            disabled,
        )
