"""Post groups and their publish targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Media, PostArtwork, PostGroup, PublishTarget

SortField = Literal["createdAt", "updatedAt", "scheduledTime"]

_SORT_COLUMNS = {
    "createdAt": PostGroup.created_at,
    "updatedAt": PostGroup.updated_at,
    "scheduledTime": PostGroup.scheduled_at,
}


@dataclass(frozen=True)
class PostListQuery:
    account_id: str
    page: int
    limit: int
    sort_by: SortField = "createdAt"
    descending: bool = True
    status: str | None = None
    platform_prefix: str | None = None
    scheduled_from: datetime | None = None
    scheduled_to: datetime | None = None


class PostStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, group: PostGroup) -> PostGroup:
        self._session.add(group)
        await self._session.flush()
        return group

    async def get(self, account_id: str, group_id: str) -> PostGroup | None:
        query = select(PostGroup).where(
            PostGroup.id == group_id, PostGroup.account_id == account_id
        )
        return await self._session.scalar(query)

    async def get_by_id(self, group_id: str) -> PostGroup | None:
        """Unscoped: for the engine and maintenance, never for a request."""
        return await self._session.get(PostGroup, group_id)

    async def delete(self, group: PostGroup) -> None:
        await self._session.delete(group)
        await self._session.flush()

    async def list_page(self, query: PostListQuery) -> tuple[Sequence[PostGroup], int]:
        """One page in a stable order (ties broken by id) and the total across pages."""
        filtered = _filtered(query)
        total = await self._session.scalar(select(func.count()).select_from(filtered.subquery()))
        column = _SORT_COLUMNS[query.sort_by]
        order = column.desc() if query.descending else column.asc()
        tie = PostGroup.id.desc() if query.descending else PostGroup.id.asc()
        total = total or 0
        # A page past the last starts at the end: the offset then fits a 64-bit integer however
        # large the requested page number is, and the page is empty.
        offset = min((query.page - 1) * query.limit, total)
        page = filtered.order_by(order.nulls_last(), tie).offset(offset).limit(query.limit)
        return (await self._session.scalars(page)).all(), total

    async def media_for(self, group_ids: Sequence[str]) -> Sequence[Media]:
        if not group_ids:
            return []
        query = select(Media).where(Media.post_group_id.in_(group_ids), Media.status == "ready")
        return (await self._session.scalars(query.order_by(Media.position, Media.id))).all()

    async def all_media_of(self, group_id: str) -> Sequence[Media]:
        """Every file of the group, uploaded or not, in upload order."""
        query = select(Media).where(Media.post_group_id == group_id)
        return (await self._session.scalars(query.order_by(Media.position, Media.id))).all()

    async def storage_keys(self, group_id: str) -> Sequence[str]:
        """Every file of the group: its media and its artwork (thumbnails, covers)."""
        media = select(Media.storage_key).where(Media.post_group_id == group_id)
        artwork = select(PostArtwork.storage_key).where(PostArtwork.post_group_id == group_id)
        return (await self._session.scalars(media.union_all(artwork))).all()


def _filtered(query: PostListQuery) -> Select[PostGroup]:
    statement = select(PostGroup).where(PostGroup.account_id == query.account_id)
    if query.status is not None:
        statement = statement.where(PostGroup.status == query.status)
    if query.platform_prefix is not None:
        prefix = query.platform_prefix.lower()
        statement = statement.where(
            exists().where(
                PublishTarget.post_group_id == PostGroup.id,
                func.substr(PublishTarget.platform, 1, len(prefix)) == prefix,
            )
        )
    # A bound excludes groups with no time at all (undated drafts), DESIGN §3.8.
    if query.scheduled_from is not None:
        statement = statement.where(PostGroup.scheduled_at >= query.scheduled_from)
    if query.scheduled_to is not None:
        statement = statement.where(PostGroup.scheduled_at <= query.scheduled_to)
    return statement
