"""Media rows of post groups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Media


class MediaRecordStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, media: Media) -> Media:
        self._session.add(media)
        await self._session.flush()
        return media

    async def for_group(self, group_id: str) -> Sequence[Media]:
        query = select(Media).where(Media.post_group_id == group_id)
        return (await self._session.scalars(query.order_by(Media.position, Media.id))).all()

    async def by_key(self, storage_key: str) -> Media | None:
        return await self._session.scalar(select(Media).where(Media.storage_key == storage_key))

    async def mark_ready(self, media_ids: Iterable[str], sizes: dict[str, int]) -> None:
        for media_id in media_ids:
            await self._session.execute(
                update(Media)
                .where(Media.id == media_id)
                .values(status="ready", size=sizes.get(media_id), upload_expires_at=None),
                execution_options={"synchronize_session": False},
            )

    async def unfinished_before(self, moment: datetime, limit: int) -> Sequence[Media]:
        query = select(Media).where(
            Media.status == "awaiting_upload", Media.upload_expires_at < moment
        )
        return (await self._session.scalars(query.limit(limit))).all()

    async def remove(self, media_ids: Iterable[str]) -> None:
        wanted = list(media_ids)
        if wanted:
            await self._session.execute(delete(Media).where(Media.id.in_(wanted)))
