"""Post artwork rows (thumbnails and covers)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import PostArtwork, PostGroup


class ArtworkStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, artwork: PostArtwork) -> PostArtwork:
        self._session.add(artwork)
        await self._session.flush()
        return artwork

    async def find(self, account_id: str, artwork_id: str) -> PostArtwork | None:
        """Only the account's own: the group's owner is checked in the same query."""
        query = (
            select(PostArtwork)
            .join(PostGroup, PostGroup.id == PostArtwork.post_group_id)
            .where(PostArtwork.id == artwork_id, PostGroup.account_id == account_id)
        )
        return await self._session.scalar(query)

    async def keys_of_group(self, group_id: str) -> Sequence[str]:
        query = select(PostArtwork.storage_key).where(PostArtwork.post_group_id == group_id)
        return (await self._session.scalars(query)).all()

    async def delete(self, artwork: PostArtwork) -> None:
        await self._session.delete(artwork)
        await self._session.flush()
