"""Fixed-window request counters kept in the database, so every API replica shares them."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import RateLimitWindow


class RateLimitStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def hit(self, account_id: str, window_start: int) -> int:
        """Count one request in the window and return the window's count, in one statement."""
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        table = RateLimitWindow.__table__
        statement = dialect.insert(table).values(
            account_id=account_id, window_start=window_start, count=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.account_id, table.c.window_start],
            set_={"count": table.c.count + 1},
        ).returning(table.c.count)
        count = (await self._session.execute(statement)).scalar_one()
        await self._session.execute(
            delete(RateLimitWindow).where(
                RateLimitWindow.account_id == account_id,
                RateLimitWindow.window_start < window_start,
            )
        )
        return int(count)
