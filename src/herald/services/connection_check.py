"""`POST /test-connection/:platformId` (publora-latest §2.3): ask the platform, through the
connector's `verify`, whether a stored connection still works. Every outcome of the check is an
answer, not an error; only a malformed id (400) or a connection the caller does not have (404)
are refusals. Messages come from the connector's taxonomy, which never carries a credential."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.config import Settings
from herald.domain.platform import Platform
from herald.domain.token_health import token_expires_in
from herald.errors import NotFoundError, ValidationError
from herald.models import Connection
from herald.net.http_client import HttpClient
from herald.platforms.base import PublishError
from herald.platforms.registry import connector_for
from herald.services.secret_box import SecretBox
from herald.store.connection import ConnectionStore
from herald.store.connection_health import last_failure, last_published_at

# Publora's parse: a lowercase-letter prefix, the first dash, then an id without whitespace,
# `/`, `?` or `#` (colons allowed: DIDs).
_PLATFORM_ID = re.compile(r"([a-z]+)-([^\s/?#]+)")


@dataclass(frozen=True)
class StoredConnection:
    """What the check needs, read in one short transaction before the platform is asked."""

    connection: Connection
    credentials: dict[str, Any]
    last_success: datetime | None
    last_error: tuple[str, datetime] | None


def parse_platform_id(value: str) -> tuple[str, str]:
    match = _PLATFORM_ID.fullmatch(value)
    if match is None:
        raise ValidationError("Invalid platformId format", code="INVALID_PLATFORM_ID")
    return match[1], match[2]


async def load_connection(
    session: AsyncSession, box: SecretBox, account_id: str, public_id: str
) -> StoredConnection:
    platform, external_id = parse_platform_id(public_id)
    connection = await ConnectionStore(session).find(account_id, platform, external_id)
    if connection is None:
        raise NotFoundError("Connection not found", code="CONNECTION_NOT_FOUND")
    credentials = box.open(connection.credentials) if connection.credentials else {}
    return StoredConnection(
        connection,
        credentials,
        await last_published_at(session, connection.id),
        await last_failure(session, connection.id),
    )


@dataclass(frozen=True)
class CheckResult:
    username: str | None
    ok: bool
    message: str


async def check_connection(
    stored: StoredConnection, client: HttpClient, settings: Settings
) -> CheckResult:
    """Runs outside any transaction: a slow platform must not hold the database."""
    connection = stored.connection
    try:
        platform = Platform(connection.platform)
    except ValueError:
        platform = None
    connector = connector_for(platform) if platform is not None else None
    if platform is None or connector is None:
        return CheckResult("unknown", False, f"Unknown platform: {connection.platform}")
    options = dict(connection.options or {})
    if platform is Platform.SANDBOX:
        options.setdefault("baseUrl", settings.resolved_sandbox_url)
    try:
        profile = await connector.verify(client, stored.credentials, options)
    except PublishError as exc:
        return CheckResult(_shown_username(connection), False, exc.message)
    if platform is Platform.SANDBOX:  # the sandbox has no accounts: each check makes one up
        return CheckResult(_shown_username(connection), True, _connected(connection))
    username = profile.username or None
    if platform is Platform.TELEGRAM:
        return CheckResult(username, True, f"Bot can post to {profile.display_name}")
    return CheckResult(username, True, f"Connected as {profile.display_name or username}")


def _shown_username(connection: Connection) -> str | None:
    return connection.username or None


def _connected(connection: Connection) -> str:
    return f"Connected as {connection.display_name or connection.username}"


def token_expiry(connection: Connection, now: datetime) -> str | None:
    return token_expires_in(connection.access_token_expires_at, now)
