"""Managed users' connections page rows."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import ConnectionsPage


class ConnectionsPageStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, account_id: str, *, for_update: bool = False) -> ConnectionsPage | None:
        query = select(ConnectionsPage).where(ConnectionsPage.account_id == account_id)
        if for_update:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def for_accounts(self, account_ids: Collection[str]) -> dict[str, ConnectionsPage]:
        if not account_ids:
            return {}
        query = select(ConnectionsPage).where(ConnectionsPage.account_id.in_(account_ids))
        return {page.account_id: page for page in await self._session.scalars(query)}

    async def add(self, page: ConnectionsPage) -> ConnectionsPage:
        self._session.add(page)
        await self._session.flush()
        return page
