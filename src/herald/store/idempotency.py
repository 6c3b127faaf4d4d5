"""Idempotency-Key records: claim, take over, finish and free, each one statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import IdempotencyRecord

R = IdempotencyRecord
_ROW_COUNT: dict[str, Any] = {"synchronize_session": False}


class IdempotencyStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def insert(self, values: dict[str, Any]) -> bool:
        """Insert unless the key exists. Concurrent inserts of one key queue on the primary key,
        and all but the first insert nothing: exactly one claim wins, on every replica."""
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(R).values(**values).on_conflict_do_nothing().returning(R.key)
        return (await self._session.execute(statement)).first() is not None

    async def find(self, account_id: str, key: str) -> IdempotencyRecord | None:
        result = await self._session.execute(
            select(R)
            .where(R.account_id == account_id, R.key == key)
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def swap(self, account_id: str, key: str, seen: str, values: dict[str, Any]) -> bool:
        """Write `values` only if the record is still at version `seen`."""
        result = await self._session.execute(
            update(R)
            .where(R.account_id == account_id, R.key == key, R.version == seen)
            .values(**values),
            execution_options=_ROW_COUNT,
        )
        return _count(result) == 1

    async def remove(self, account_id: str, key: str, seen: str) -> None:
        await self._session.execute(
            delete(R).where(R.account_id == account_id, R.key == key, R.version == seen),
            execution_options=_ROW_COUNT,
        )

    async def prune(self, created_before: datetime, limit: int) -> int:
        """Delete up to `limit` expired records, skipping any another transaction holds."""
        expired = (
            select(R.account_id, R.key)
            .where(R.created_at < created_before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self._session.execute(
            delete(R).where(tuple_(R.account_id, R.key).in_(expired)),
            execution_options=_ROW_COUNT,
        )
        return _count(result)


def _count(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
