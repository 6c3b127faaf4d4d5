"""Signing in to the dashboard: passwords (argon2id), one-time sign-in links, sessions.

Tokens are 256 random bits shown once; only their SHA-256 is stored. Hashing and checking a
password costs tens of milliseconds of CPU, so callers do it outside the write transaction
(`password_matches` reads, `start_session` writes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import NotFoundError, ValidationError
from herald.models import Account, DashboardToken
from herald.models.dashboard_token import SESSION, SIGN_IN
from herald.store.account import AccountStore
from herald.store.dashboard_token import DashboardTokenStore

SIGN_IN_LINK_TTL = timedelta(hours=1)
SESSION_TTL = timedelta(days=14)
MIN_PASSWORD = 10
MAX_PASSWORD = 200
_HASHER = PasswordHasher()  # argon2id with the library's current recommended costs


@cache
def _dummy_hash() -> str:
    """Checked against when no account has the email, so a wrong email costs what a wrong
    password does; made on first use, not at import (it takes most of a second)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SignedIn:
    account_id: str
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(
            f"A password has {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            code="INVALID_PASSWORD",
        )
    return _HASHER.hash(password)


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("Unknown time zone", code="INVALID_TIME_ZONE") from exc
    return name


async def _account(session: AsyncSession, account_id: str) -> Account:
    account = await AccountStore(session).get(account_id)
    if account is None:
        raise NotFoundError("Account not found", code="ACCOUNT_NOT_FOUND")
    return account


async def set_password(session: AsyncSession, account_id: str, password_hash: str) -> None:
    (await _account(session, account_id)).password_hash = password_hash
    await session.flush()


async def set_email(session: AsyncSession, account_id: str, email: str) -> None:
    if "@" not in email or len(email) > 320:
        raise ValidationError("Invalid email", code="INVALID_EMAIL")
    (await _account(session, account_id)).email = email.strip().lower()
    await session.flush()


async def password_matches(session: AsyncSession, email: str, password: str) -> str | None:
    """The account id whose email and password these are, or None. An email two accounts
    share signs in neither: the owner must use a sign-in link."""
    found = await DashboardTokenStore(session).accounts_by_email(email.strip().lower())
    stored = found[0].password_hash if len(found) == 1 else None
    try:
        _HASHER.verify(stored or _dummy_hash(), password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    return found[0].id if stored else None


async def issue_sign_in_link(session: AsyncSession, account_id: str, now: datetime) -> str:
    await _account(session, account_id)
    token = secrets.token_urlsafe(32)
    expires = now + SIGN_IN_LINK_TTL
    await DashboardTokenStore(session).add(
        DashboardToken(
            token_hash=_digest(token), kind=SIGN_IN, account_id=account_id, expires_at=expires
        )
    )
    return token


async def redeem_sign_in_link(session: AsyncSession, token: str, now: datetime) -> str | None:
    """The link's account, the link spent; None when used, expired or never made."""
    return await DashboardTokenStore(session).take(_digest(token), SIGN_IN, now)


async def start_session(session: AsyncSession, account_id: str, now: datetime) -> tuple[str, str]:
    """A new session's cookie value and CSRF token."""
    store = DashboardTokenStore(session)
    await store.sweep(now)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await store.add(
        DashboardToken(
            token_hash=_digest(token),
            kind=SESSION,
            account_id=account_id,
            csrf=csrf,
            expires_at=now + SESSION_TTL,
        )
    )
    return token, csrf


async def find_session(session: AsyncSession, token: str, now: datetime) -> SignedIn | None:
    found = await DashboardTokenStore(session).find(_digest(token), SESSION, now)
    if found is None or found.csrf is None:
        return None
    return SignedIn(found.account_id, found.csrf)


async def end_session(session: AsyncSession, token: str, now: datetime) -> None:
    await DashboardTokenStore(session).take(_digest(token), SESSION, now)


def csrf_matches(expected: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(expected.encode(), (sent or "").encode())
