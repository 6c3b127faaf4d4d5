"""What list-posts shows of a page of groups, read as plain rows: two statements and no ORM
objects, whose building was most of the cost of a page of 100."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import PostGroup as G
from herald.models import PublishTarget as T


@dataclass(frozen=True)
class ListedTarget:
    platform: str
    external_account_id: str
    state: str
    sent_at: datetime | None


@dataclass(frozen=True)
class ListedGroup:
    id: str
    content: str
    scheduled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    targets: tuple[ListedTarget, ...]  # in position order


async def listed_groups(session: AsyncSession, ids: Sequence[str]) -> list[ListedGroup]:
    """These groups with their targets, in the order of `ids` (unknown ids left out)."""
    if not ids:
        return []
    groups = await session.execute(
        select(G.id, G.content, G.scheduled_at, G.created_at, G.updated_at).where(G.id.in_(ids))
    )
    targets: dict[str, list[ListedTarget]] = {group_id: [] for group_id in ids}
    rows = await session.execute(
        select(T.post_group_id, T.platform, T.external_account_id, T.state, T.sent_at)
        .where(T.post_group_id.in_(ids))
        .order_by(T.post_group_id, T.position)
    )
    for group_id, platform, account, state, sent_at in rows:
        targets[group_id].append(ListedTarget(platform, account, state, sent_at))
    found = {row.id: ListedGroup(*row, targets=tuple(targets[row.id])) for row in groups}
    return [found[group_id] for group_id in ids if group_id in found]
