"""One account's publish targets, counted for the dashboard's status page."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import ApiKey, PostGroup, PublishTarget


async def target_counts(
    session: AsyncSession, account_id: str, now: datetime, soon: timedelta
) -> dict[str, int]:
    """Targets by state, plus `due` (scheduled within `soon`) and `overdue` (scheduled, past
    their time), all for one account in one query."""
    scheduled = PublishTarget.state == "scheduled"
    query = (
        select(
            PublishTarget.state,
            func.count(),
            func.sum(case((scheduled & (PublishTarget.due_at < now), 1), else_=0)),
            func.sum(
                case(
                    (
                        scheduled
                        & (PublishTarget.due_at >= now)
                        & (PublishTarget.due_at < now + soon),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .join(PostGroup, PostGroup.id == PublishTarget.post_group_id)
        .where(PostGroup.account_id == account_id)
        .group_by(PublishTarget.state)
    )
    counts: dict[str, int] = {"due": 0, "overdue": 0}
    for state, count, overdue, due in await session.execute(query):
        counts[state] = int(count)
        counts["overdue"] += int(overdue or 0)
        counts["due"] += int(due or 0)
    return counts


async def api_keys(session: AsyncSession, account_id: str) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at)
    return list((await session.scalars(query)).all())
