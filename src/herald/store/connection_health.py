"""What a connection's publish targets say about its health: its last success and last error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import PublishTarget


async def last_published_at(session: AsyncSession, connection_id: str) -> datetime | None:
    query = select(func.max(PublishTarget.published_at)).where(
        PublishTarget.connection_id == connection_id
    )
    moment: datetime | None = await session.scalar(query)
    return moment


async def last_failure(session: AsyncSession, connection_id: str) -> tuple[str, datetime] | None:
    """The message and time of the connection's latest failed target, if any."""
    query = (
        select(PublishTarget.last_error, PublishTarget.updated_at)
        .where(
            PublishTarget.connection_id == connection_id,
            PublishTarget.state.in_(("failed", "outcome_unknown")),
            PublishTarget.last_error.is_not(None),
        )
        .order_by(PublishTarget.updated_at.desc(), PublishTarget.id.desc())
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (str(row[0]), row[1])
