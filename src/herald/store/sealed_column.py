"""Rows holding a sealed secret as key rotation walks them: by id, counted, swapped if unchanged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


class SealedColumn:
    """One table's sealed column (`sealed`) and its id (`row_id`); rows where it is NULL hold
    nothing to re-seal."""

    def __init__(
        self,
        session: AsyncSession,
        row_id: InstrumentedAttribute[Any],
        sealed: InstrumentedAttribute[Any],
    ) -> None:
        self._session = session
        self._id = row_id
        self._sealed = sealed

    async def sealed_after(self, after_id: str, limit: int) -> list[tuple[str, bytes]]:
        """Up to `limit` sealed values of rows with ids after `after_id`, by id."""
        query = (
            select(self._id, self._sealed)
            .where(self._id > after_id, self._sealed.is_not(None))
            .order_by(self._id)
            .limit(limit)
        )
        rows = await self._session.execute(query)
        return [(id_, bytes(sealed)) for id_, sealed in rows]

    async def count_sealed(self) -> int:
        query = select(func.count()).where(self._sealed.is_not(None))
        return int(await self._session.scalar(query.select_from(self._id.class_)) or 0)

    async def replace_sealed(self, row_id: str, expected: bytes, sealed: bytes) -> bool:
        """Swap the sealed value if it is still `expected`: a write meanwhile (a reconnection, a
        regenerated secret) wins."""
        result = await self._session.execute(
            update(self._id.class_)
            .where(self._id == row_id, self._sealed == expected)
            .values({self._sealed.key: sealed})
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
