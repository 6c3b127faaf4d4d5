"""Accounts and API keys, as the CLI manages them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.api_key import hash_api_key, key_prefix, new_api_key
from herald.errors import NotFoundError
from herald.models import Account, ApiKey
from herald.store.account import AccountStore, ApiKeyStore


async def create_account(session: AsyncSession, name: str, *, workspace: bool) -> Account:
    return await AccountStore(session).add(Account(name=name, is_workspace=workspace))


async def list_accounts(session: AsyncSession) -> Sequence[Account]:
    return await AccountStore(session).list_all()


async def issue_api_key(session: AsyncSession, account_id: str) -> tuple[str, ApiKey]:
    """Returns the key itself (shown once, never stored) and its stored record."""
    if await AccountStore(session).get(account_id) is None:
        raise NotFoundError("Account not found", code="ACCOUNT_NOT_FOUND")
    key = new_api_key()
    record = ApiKey(account_id=account_id, key_hash=hash_api_key(key), prefix=key_prefix(key))
    return key, await ApiKeyStore(session).add(record)


async def revoke_api_key(session: AsyncSession, key_id: str, now: datetime) -> ApiKey:
    record = await ApiKeyStore(session).get(key_id)
    if record is None:
        raise NotFoundError("API key not found", code="API_KEY_NOT_FOUND")
    if record.revoked_at is None:
        record.revoked_at = now
        await session.flush()
    return record
