"""Logged-in sessions, one per account, shared by all its posts and renewed when they go stale.

    POST {pds}/xrpc/com.atproto.server.createSession  {"identifier": handle|DID, "password": app pw}
        200 {"accessJwt", "refreshJwt", "did", "handle", ...}
        401 AuthenticationRequired "Invalid identifier or password"
    POST {pds}/xrpc/com.atproto.server.refreshSession  (Authorization: Bearer <refreshJwt>)
        200 a new pair (the old refresh token is spent); 400 ExpiredToken|InvalidToken when stale

createSession is limited to 30 per 5 minutes and 300 per day per account, so a session is cached
in the connector, keyed by the PDS, the identifier and a digest of the password (a changed app
password makes a new session; the password itself is never a key and never logged). A lock per
account makes a burst of posts share one login. An access token lives 2 hours. It is refreshed
ahead of time when its `exp` claim (read, not verified: the PDS verifies) is under two minutes
away, so a long upload never starts with a token about to lapse; and a call refused with
ExpiredToken/InvalidToken all the same refreshes once, then logs in once if the refresh is refused.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from herald.net.http_client import (
    HttpError,
    HttpResponse,
)
from herald.platforms.base import AuthExpiredError, RetryableError
from herald.platforms.bluesky.xrpc import Pds, XrpcError, failure, stale_session, unreachable

logger = logging.getLogger("herald.platforms.bluesky")

CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"

_CacheKey = tuple[str, str, str]
# Renew an access token this long before its `exp`: clocks drift, and uploads take a while.
RENEW_AHEAD_S = 120.0


@dataclass(frozen=True)
class Account:
    pds: str
    identifier: str
    password: str = field(repr=False)

    @property
    def cache_key(self) -> _CacheKey:
        digest = hashlib.sha256(self.password.encode()).hexdigest()[:16]
        return (self.pds, self.identifier.lower(), digest)


def account_of(credentials: Mapping[str, Any], pds: str) -> Account:
    identifier, password = credentials.get("identifier"), credentials.get("appPassword")
    if not isinstance(identifier, str) or not identifier or not isinstance(password, str):
        raise AuthExpiredError("The Bluesky connection has no handle or app password; reconnect it")
    return Account(pds, identifier.removeprefix("@"), password)


@dataclass(frozen=True)
class Session:
    did: str
    handle: str
    access_jwt: str = field(repr=False)
    refresh_jwt: str = field(repr=False)

    def expiring(self, now: float) -> bool:
        expires_at = _expiry(self.access_jwt)
        return expires_at is not None and expires_at - now < RENEW_AHEAD_S

    def secrets(self, account: Account) -> tuple[str, ...]:
        return (account.password, self.access_jwt, self.refresh_jwt)


Send = Callable[[Session], Awaitable[HttpResponse]]


class SessionCache:
    def __init__(self) -> None:
        self._sessions: dict[_CacheKey, Session] = {}
        # asyncio locks belong to one event loop; the connector may serve several (a CLI run,
        # each test's loop), so each loop gets its own locks.
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[_CacheKey, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def cached(self, account: Account) -> Session | None:
        return self._sessions.get(account.cache_key)

    async def session(self, pds: Pds, account: Account) -> Session:
        cached = self.cached(account)
        if cached is not None and not cached.expiring(time.time()):
            return cached
        async with self._lock(account):
            cached = self.cached(account)  # another task may have renewed it while we waited
            if cached is None:
                return await self._login(pds, account)
            if not cached.expiring(time.time()):
                return cached
            renewed = await self._refresh(pds, account, cached)
            return renewed if renewed is not None else await self._login(pds, account)

    async def fresh_login(self, pds: Pds, account: Account) -> Session:
        """A new session whatever the cache holds: checks the credentials as they are now."""
        async with self._lock(account):
            return await self._login(pds, account)

    async def call(self, pds: Pds, account: Account, send: Send) -> tuple[Session, HttpResponse]:
        """`send` with the account's session; once more with a renewed one if it was stale. A
        stale-session answer is a refusal before any work, so sending again is always safe."""
        session = await self.session(pds, account)
        response = await send(session)
        if not stale_session(response):
            return session, response
        session = await self._renew(pds, account, session)
        response = await send(session)
        if stale_session(response):
            detail = XrpcError.of(response).detail(session.secrets(account))
            raise AuthExpiredError(
                f"Bluesky refused a new session at once: {detail}", http_status=response.status_code
            )
        return session, response

    async def _renew(self, pds: Pds, account: Account, stale: Session) -> Session:
        async with self._lock(account):
            current = self.cached(account)
            if current is not None and current != stale:
                return current  # renewed by another task while this one waited
            renewed = await self._refresh(pds, account, stale)
            return renewed if renewed is not None else await self._login(pds, account)

    async def _refresh(self, pds: Pds, account: Account, stale: Session) -> Session | None:
        try:
            response = await pds.post(REFRESH_SESSION, token=stale.refresh_jwt)
        except HttpError as exc:
            raise unreachable(exc) from None
        if response.status_code != 200:
            error = XrpcError.of(response)
            if error.stale_session or error.status == 401:
                return None  # the refresh token is spent or expired: log in again
            raise failure(error, "the session refresh", stale.secrets(account))
        logger.info("bluesky.session.refreshed pds=%s", account.pds)
        return self._store(account, response, "session refresh")

    async def _login(self, pds: Pds, account: Account) -> Session:
        self._sessions.pop(account.cache_key, None)
        body = {"identifier": account.identifier, "password": account.password}
        try:
            response = await pds.post(CREATE_SESSION, json=body)
        except HttpError as exc:
            raise unreachable(exc) from None
        if response.status_code != 200:
            error = XrpcError.of(response)
            if error.status in (400, 401):
                raise AuthExpiredError(
                    "Bluesky refused the handle or app password: "
                    + error.detail((account.password,)),
                    http_status=error.status,
                )
            raise failure(error, "the login", (account.password,))
        logger.info("bluesky.session.created pds=%s", account.pds)
        return self._store(account, response, "login")

    def _store(self, account: Account, response: HttpResponse, what: str) -> Session:
        try:
            body = response.json()
            session = Session(
                did=_text(body, "did"),
                handle=_text(body, "handle"),
                access_jwt=_text(body, "accessJwt"),
                refresh_jwt=_text(body, "refreshJwt"),
            )
        except (ValueError, TypeError, AttributeError):
            raise RetryableError(f"Bluesky answered the {what} with an unreadable body") from None
        self._sessions[account.cache_key] = session
        return session

    def _lock(self, account: Account) -> asyncio.Lock:
        locks = self._locks.setdefault(asyncio.get_running_loop(), {})
        return locks.setdefault(account.cache_key, asyncio.Lock())


def _expiry(jwt: str) -> float | None:
    """The `exp` claim of a JWT, or None when the token does not read as one."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None
    expires_at = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
        return None
    try:
        return float(expires_at)
    except OverflowError:  # an integer beyond any float: no expiry we can use
        return None


def _text(body: Any, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty string")
    return value
