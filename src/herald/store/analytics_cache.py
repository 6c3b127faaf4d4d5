"""The analytics cache: read what is still fresh, write what was just fetched (upserts)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import AnalyticsCacheEntry


class AnalyticsCacheStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def fresh(self, keys: Collection[str], now: datetime) -> dict[str, AnalyticsCacheEntry]:
        if not keys:
            return {}
        query = select(AnalyticsCacheEntry).where(
            AnalyticsCacheEntry.key.in_(keys), AnalyticsCacheEntry.expires_at > now
        )
        return {entry.key: entry for entry in await self._session.scalars(query)}

    async def put(
        self, entries: Sequence[tuple[str, dict[str, Any] | None]], now: datetime, until: datetime
    ) -> None:
        """Concurrent requests may fetch the same key: the last write wins, never a conflict."""
        if not entries:
            return
        dialect = self._session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        rows = [
            {"key": key, "value": value, "fetched_at": now, "expires_at": until}
            for key, value in entries
        ]
        statement = insert(AnalyticsCacheEntry).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[AnalyticsCacheEntry.key],
            set_={
                "value": statement.excluded.value,
                "fetched_at": statement.excluded.fetched_at,
                "expires_at": statement.excluded.expires_at,
            },
        )
        await self._session.execute(statement)

    async def prune(self, now: datetime) -> None:
        await self._session.execute(
            delete(AnalyticsCacheEntry).where(AnalyticsCacheEntry.expires_at <= now)
        )
