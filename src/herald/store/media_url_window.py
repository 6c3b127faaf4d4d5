"""Media URLs fetched per account per fixed hour, kept in the database for every replica."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import MediaUrlWindow


class MediaUrlWindowStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account_id: str, window_start: int, count: int) -> int:
        """Add `count` to the window and return its total, in one statement."""
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        table = MediaUrlWindow.__table__
        statement = dialect.insert(table).values(
            account_id=account_id, window_start=window_start, count=count
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.account_id, table.c.window_start],
            set_={"count": table.c.count + count},
        ).returning(table.c.count)
        total = (await self._session.execute(statement)).scalar_one()
        await self._session.execute(
            delete(MediaUrlWindow).where(
                MediaUrlWindow.account_id == account_id,
                MediaUrlWindow.window_start < window_start,
            )
        )
        return int(total)
