"""The attempt log of one post group, for `GET /post-logs`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import PublishAttempt, PublishTarget


async def first_attempts(
    session: AsyncSession, group_id: str, limit: int
) -> Sequence[tuple[PublishAttempt, PublishTarget]]:
    """The group's first `limit` attempts, oldest first (the id breaks ties within a tick)."""
    query = (
        select(PublishAttempt, PublishTarget)
        .join(PublishTarget, PublishTarget.id == PublishAttempt.target_id)
        .where(PublishTarget.post_group_id == group_id)
        .order_by(PublishAttempt.at, PublishAttempt.id)
        .limit(limit)
    )
    return [(attempt, target) for attempt, target in (await session.execute(query)).all()]
