"""Renewing access tokens, once per expiry however many posts notice it.

X rotates refresh tokens: the old one stops working the moment a new one is issued, so two
renewals of one connection at once would lock the account out. A renewal therefore runs under
a per-connection asyncio lock (one process), inside a write transaction that holds the
connection's row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite has one writer at a time), and
first compares the stored token with the one the caller found stale: if another task or
process renewed it meanwhile, that token is used and the platform is not asked again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db.engine import unit_of_work
from herald.domain.timestamps import utc_now
from herald.errors import AppError
from herald.models import Connection
from herald.net.http_client import HttpClient
from herald.oauth.lifecycle import store_tokens
from herald.oauth.providers import oauth_app
from herald.oauth.token_endpoint import OAuthError, TokenSet, refresh
from herald.services.secret_box import SecretBox
from herald.store.connection import ConnectionStore
from herald.store.publish_result import PublishResultStore

logger = logging.getLogger("herald.oauth")
# A token this close to its expiry is renewed before sending: the request must not arrive late.
EXPIRY_SKEW = timedelta(seconds=30)
NEEDS_REAUTH_GATE = timedelta(days=36500)  # until the owner connects the account again

Why = Literal["expired", "refused", "ahead"]


class RefreshError(Exception):
    """The token could not be renewed. `reauth`: only the owner can fix it (the grant is
    revoked or spent, or there is no refresh token); otherwise try again later."""

    def __init__(self, message: str, *, reauth: bool) -> None:
        super().__init__(message)
        self.message = message
        self.reauth = reauth


@dataclass
class _Outcome:
    credentials: dict[str, Any] | None = None
    failure: RefreshError | None = None


class TokenKeeper:
    """One per engine process; `client` is the engine's HttpClient."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        settings: Settings,
        client: HttpClient,
        count: Callable[[str], None] | None = None,
    ) -> None:
        self._sessions = sessions
        # Each platform call's result (renewed, refused, failed), for the engine's metrics.
        self._count = count or (lambda _result: None)
        self._box = box
        self._settings = settings
        self._client = client
        self._locks: dict[str, asyncio.Lock] = {}
        self.renewals = 0  # platform calls made, for the metrics and tests

    @staticmethod
    def expired(credentials: Mapping[str, Any], now: datetime | None = None) -> bool:
        """True when the access token has (nearly) run out by its own stated expiry."""
        expires = TokenSet.from_credentials(dict(credentials)).expires_at
        return expires is not None and expires - EXPIRY_SKEW <= (now or utc_now())

    async def fresh(
        self, connection_id: str, stale: Mapping[str, Any] | None, why: Why
    ) -> dict[str, Any]:
        """Credentials to send with, renewed if `why` still holds once the lock is ours:
        "expired" (the stored token's time is up), "refused" (the platform answered 401 to
        `stale`), "ahead" (the planned renewal time has come). RefreshError otherwise."""
        lock = self._locks.setdefault(connection_id, asyncio.Lock())
        async with lock:  # kept for the process's life: one small lock per connection
            outcome = await self._renew(connection_id, stale, why)
        if outcome.failure is not None:
            raise outcome.failure
        return outcome.credentials or {}

    async def _renew(
        self, connection_id: str, stale: Mapping[str, Any] | None, why: Why
    ) -> _Outcome:
        async with unit_of_work(self._sessions) as session:
            connection = await ConnectionStore(session).lock(connection_id)
            if connection is None or connection.credentials is None:
                return _Outcome(failure=RefreshError("The connection was removed", reauth=True))
            current = self._box.open(connection.credentials)
            if not self._still_due(connection, current, stale, why):
                return _Outcome(credentials=current)
            return await self._call_platform(
                session, connection, TokenSet.from_credentials(current)
            )

    def _still_due(
        self,
        connection: Connection,
        current: dict[str, Any],
        stale: Mapping[str, Any] | None,
        why: Why,
    ) -> bool:
        if stale is not None and current.get("accessToken") != stale.get("accessToken"):
            return False  # renewed by someone else since the caller read it
        if connection.status != "active":
            return False  # needs the owner; the caller's send finds out on its own
        now = utc_now()
        if why == "ahead":
            return connection.refresh_at is not None and connection.refresh_at <= now
        if why == "expired":
            return self.expired(current, now)
        return True

    async def _call_platform(
        self, session: AsyncSession, connection: Connection, tokens: TokenSet
    ) -> _Outcome:
        """The token endpoint, with the row held. A refusal for good flags the connection in
        this same transaction (its posts are held until the owner reconnects)."""
        title = connection.platform
        try:
            app = oauth_app(connection.platform, self._settings)
            title = app.provider.title
            renew = app.provider.renew
            if tokens.refresh_token is None and renew is None:
                raise OAuthError("invalid_grant", "no refresh token", retryable=False)
            self.renewals += 1
            if renew is not None:  # the platform's own renewal (Threads: the token itself)
                renewed = await renew(self._client, app, tokens)
            else:
                assert tokens.refresh_token is not None  # noqa: S101 - checked above
                renewed = await refresh(self._client, app, tokens.refresh_token)
        except AppError as exc:  # the operator removed the platform's app
            return _Outcome(failure=RefreshError(exc.message, reauth=False))
        except OAuthError as exc:
            gone = exc.grant_gone(app) or (
                tokens.refresh_token is None and app.provider.renew is None
            )
            return await self._refused(session, connection, title, exc, gone=gone)
        now = utc_now()
        store_tokens(connection, self._box, app.provider, renewed.keeping(tokens), now)
        await session.flush()
        logger.info("oauth.refreshed connection=%s", connection.id)
        self._count("renewed")
        return _Outcome(credentials=renewed.keeping(tokens).credentials())

    async def _refused(
        self,
        session: AsyncSession,
        connection: Connection,
        title: str,
        exc: OAuthError,
        *,
        gone: bool,
    ) -> _Outcome:
        logger.warning(
            "oauth.refresh.failed connection=%s error=%s status=%s",
            connection.id,
            exc.error,
            exc.status,
        )
        self._count("refused" if gone else "failed")
        if not gone:
            message = f"{title} could not renew the access token ({exc.error}); will try again"
            return _Outcome(failure=RefreshError(message, reauth=False))
        connection.status = "needs_reauth"
        connection.refresh_at = None
        await session.flush()
        results = PublishResultStore(session)
        await results.gate_connection(connection.id, utc_now() + NEEDS_REAUTH_GATE, "needs_reauth")
        message = (
            f"{title} no longer accepts this connection's authorization ({exc.error}): "
            "connect the account again"
        )
        return _Outcome(failure=RefreshError(message, reauth=True))

    async def renew_due(self, limit: int = 100) -> int:
        """The background pass: renew every token whose planned time has come. Returns how
        many were renewed; a failure is logged and left for the send (or next pass)."""
        async with unit_of_work(self._sessions, write=False) as session:
            due = await ConnectionStore(session).due_for_refresh(utc_now(), limit)
        renewed = 0
        for connection_id in due:
            try:
                await self.fresh(connection_id, None, "ahead")
                renewed += 1
            except RefreshError:
                continue  # logged where it failed
        return renewed
