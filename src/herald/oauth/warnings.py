"""`token.expiring`: the owner hears once, well ahead, that a credential Herald cannot renew
will run out (Publora defines the event and its data; §3 of the reference)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.db.engine import unit_of_work
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import format_timestamp
from herald.oauth.providers import PROVIDERS
from herald.store.connection import ConnectionStore
from herald.store.oauth_state import OAuthStateStore
from herald.store.webhook import WebhookStore

# The same window as tokenStatus `expiring_soon`: a week to reconnect. A credential that lives
# less than that is warned about as soon as the engine sees it.
WARN_AHEAD = timedelta(days=7)
_BATCH = 200


def _later(now: datetime) -> dict[str, datetime]:
    """Platforms that warn earlier than the week: LinkedIn's ten days of its sixty."""
    return {
        platform.value: now + provider.warn_ahead
        for platform, provider in PROVIDERS.items()
        if provider.warn_ahead is not None
    }


async def warn_expiring(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Queue `token.expiring` for each connection whose unrenewable credential runs out within
    WARN_AHEAD (or its provider's `warn_ahead`), in the transaction that marks it warned (so it
    is sent once)."""
    async with unit_of_work(sessions, write=False) as session:  # usually none: no write lock
        if not await ConnectionStore(session).expiring_unwarned(now + WARN_AHEAD, 1, _later(now)):
            return 0
    async with unit_of_work(sessions) as session:
        found = await ConnectionStore(session).expiring_unwarned(
            now + WARN_AHEAD, _BATCH, _later(now)
        )
        events = [
            (
                c.account_id,
                "token.expiring",
                {
                    "platform": c.platform,
                    "platformId": platform_id(Platform(c.platform), c.external_id),
                    "username": c.username,
                    "expiresAt": format_timestamp(c.access_token_expires_at),
                },
            )
            for c in found
            if c.access_token_expires_at is not None
        ]
        await WebhookStore(session).enqueue(events, now)
        for connection in found:
            connection.expiry_warned_at = now
        await session.flush()
    return len(found)


async def sweep_states(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Forget connections started but never finished."""
    async with unit_of_work(sessions) as session:
        return await OAuthStateStore(session).sweep(now)
