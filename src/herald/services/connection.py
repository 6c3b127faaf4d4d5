"""Connected social accounts: listing, adding and removing them."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.platform import Platform, split_platform_id
from herald.errors import NotFoundError, ValidationError
from herald.models import Account, Connection
from herald.services.secret_box import SecretBox
from herald.store.account import AccountStore
from herald.store.connection import ConnectionStore


def connection_not_found() -> NotFoundError:
    return NotFoundError("Platform connection not found", code="CONNECTION_NOT_FOUND")


async def list_connections(session: AsyncSession, account_id: str) -> Sequence[Connection]:
    return await ConnectionStore(session).list_for_account(account_id)


async def list_all_connections(session: AsyncSession) -> Sequence[tuple[Connection, Account]]:
    return await ConnectionStore(session).list_all()


async def add_connection(
    session: AsyncSession,
    box: SecretBox,
    account_id: str,
    platform: str,
    options: dict[str, Any],
) -> Connection:
    """Only the credential-free sandbox can be connected so far; real platforms arrive with
    their connectors, which verify credentials before anything is stored."""
    if await AccountStore(session).get(account_id) is None:
        raise NotFoundError("Account not found", code="ACCOUNT_NOT_FOUND")
    if platform != Platform.SANDBOX:
        known = ", ".join(p.value for p in Platform)
        detail = "is not supported yet" if platform in set(Platform) else "is unknown"
        raise ValidationError(
            f"Platform {platform!r} {detail}; platforms: {known}", code="PLATFORM_NOT_SUPPORTED"
        )
    external_id = secrets.token_hex(6)
    connection = Connection(
        account_id=account_id,
        platform=Platform.SANDBOX.value,
        external_id=external_id,
        username=f"@sandbox_{external_id[:6]}",
        display_name="Herald Sandbox",
        profile_image_url="",
        profile_url=None,
        options=options,
        credentials=box.seal({}),
    )
    return await ConnectionStore(session).add(connection)


async def remove_connection(
    session: AsyncSession, public_id: str, account_id: str | None = None
) -> Connection:
    parts = split_platform_id(public_id)
    if parts is None:
        raise connection_not_found()
    store = ConnectionStore(session)
    if account_id is not None:
        connection = await store.find(account_id, parts[0].value, parts[1])
    else:
        connection = await store.find_any(parts[0].value, parts[1])
    if connection is None:
        raise connection_not_found()
    await store.delete(connection)
    return connection
