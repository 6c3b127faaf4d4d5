"""Accounts and API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Account, ApiKey

# Ids are random after their first four bytes (the second they were made): oldest first needs
# the creation time, the id only breaks ties.
_CREATION_ORDER = (Account.created_at, Account.id)


class AccountStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: Account) -> Account:
        self._session.add(account)
        await self._session.flush()
        return account

    async def get(self, account_id: str) -> Account | None:
        return await self._session.get(Account, account_id)

    async def count(self) -> int:
        return (await self._session.scalar(select(func.count()).select_from(Account))) or 0

    async def list_all(self) -> Sequence[Account]:
        return (await self._session.scalars(select(Account).order_by(*_CREATION_ORDER))).all()

    async def get_managed_user(self, workspace_id: str, user_id: str) -> Account | None:
        query = select(Account).where(Account.id == user_id, Account.parent_id == workspace_id)
        return await self._session.scalar(query)

    async def find_managed_user_by_email(self, workspace_id: str, email: str) -> Account | None:
        query = select(Account).where(Account.parent_id == workspace_id, Account.email == email)
        return await self._session.scalar(query)

    async def list_managed_users(self, workspace_id: str) -> Sequence[Account]:
        query = select(Account).where(Account.parent_id == workspace_id).order_by(*_CREATION_ORDER)
        return (await self._session.scalars(query)).all()

    async def delete(self, account: Account) -> None:
        await self._session.delete(account)
        await self._session.flush()


class ApiKeyStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, key: ApiKey) -> ApiKey:
        self._session.add(key)
        await self._session.flush()
        return key

    async def get(self, key_id: str) -> ApiKey | None:
        return await self._session.get(ApiKey, key_id)

    async def find_active(self, key_hash: str) -> ApiKey | None:
        query = select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        return await self._session.scalar(query)

    async def revoke_all(self, account_id: str, at: datetime) -> None:
        await self._session.execute(
            update(ApiKey)
            .where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=at)
        )
