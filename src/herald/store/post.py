"""Post groups and their publish targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Media, PostArtwork, PostGroup
from herald.store.post_list import ListFilter, PostListReader

SortField = Literal["createdAt", "updatedAt", "scheduledTime"]


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
        ids, total = await self.list_page_ids(query)
        return await PostListReader(self._session).groups(ids), total

    async def list_page_ids(self, query: PostListQuery) -> tuple[list[str], int]:
        """The ids of `list_page`'s groups, in order, and the total across pages."""
        filters = ListFilter(
            query.account_id,
            query.status,
            query.platform_prefix,
            query.scheduled_from,
            query.scheduled_to,
        )
        reader = PostListReader(self._session)
        return await reader.page_ids(
            filters, query.sort_by, query.descending, query.page, query.limit
        )

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
