"""Media rows of post groups.

A row is `awaiting_upload`, `ready` or `too_large` (the file passed the upload cap and was
deleted). `upload_expires_at` stays set until the maintenance sweep has looked at the file once
after its upload URL died: until then a client may still replace an S3 object."""

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

    async def mark_ready(
        self, media_ids: Iterable[str], sizes: dict[str, int], *, settled: bool = False
    ) -> None:
        """`settled`: checked after the upload URL expired, so the file can no longer change."""
        values: dict[str, object] = {"status": "ready"}
        if settled:
            values["upload_expires_at"] = None
        for media_id in media_ids:
            await self._session.execute(
                update(Media)
                .where(Media.id == media_id)
                .values(size=sizes.get(media_id), **values),
                execution_options={"synchronize_session": False},
            )

    async def mark_too_large(self, media_ids: Iterable[str], *, settled: bool = False) -> None:
        values: dict[str, object] = {"status": "too_large"}
        if settled:
            values["upload_expires_at"] = None
        await self._update(media_ids, values)

    async def mark_settled(self, media_ids: Iterable[str]) -> None:
        await self._update(media_ids, {"upload_expires_at": None})

    async def unsettled_before(self, moment: datetime, limit: int) -> Sequence[Media]:
        """Rows whose upload URL died before `moment` and which the sweep has not yet seen."""
        query = select(Media).where(Media.upload_expires_at < moment)
        return (
            await self._session.scalars(query.order_by(Media.upload_expires_at).limit(limit))
        ).all()

    async def _update(self, media_ids: Iterable[str], values: dict[str, object]) -> None:
        wanted = list(media_ids)
        if wanted:
            await self._session.execute(
                update(Media).where(Media.id.in_(wanted)).values(**values),
                execution_options={"synchronize_session": False},
            )

    async def remove(self, media_ids: Iterable[str]) -> None:
        wanted = list(media_ids)
        if wanted:
            await self._session.execute(delete(Media).where(Media.id.in_(wanted)))
