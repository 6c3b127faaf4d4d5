"""Before the send gate: are the group's files uploaded, and do they suit this platform?"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.db.engine import unit_of_work
from herald.domain.media_rules import (
    AttachedMedia,
    MediaRuleError,
    check_ready_to_publish,
    check_video,
    describe_bytes,
    image_byte_limit,
    needs_jpeg,
)
from herald.domain.platform import Platform
from herald.domain.timestamps import utc_now
from herald.engine.batching import WriteBatcher
from herald.media.base import MediaStore, StoredFile
from herald.media.local import LocalMediaStore
from herald.media.processing import fit_image, probe_video, webp_to_jpeg
from herald.platforms.base import MediaItem
from herald.services.media import delete_files
from herald.services.public_media import CODE as PUBLIC_MEDIA_CODE
from herald.services.public_media import first_unreachable, not_public_message
from herald.store.media import MediaRecordStore
from herald.store.publish_context import GroupContext, MediaContext
from herald.store.publish_queue import ClaimedTarget

RECHECK_AFTER = timedelta(seconds=5)
SWEEP_BATCH = 100


@dataclass(frozen=True)
class _Unsettled:
    id: str
    key: str
    status: str


@dataclass(frozen=True)
class Ready:
    items: list[MediaItem]


@dataclass(frozen=True)
class Wait:
    until: datetime


@dataclass(frozen=True)
class Refuse:
    message: str
    code: str


@dataclass
class MediaPreparer:
    store: MediaStore
    writer: WriteBatcher
    max_wait: timedelta
    max_bytes: int  # the upload cap: S3 takes any size the client PUTs, so it is checked here

    async def prepare(self, claim: ClaimedTarget, group: GroupContext) -> Ready | Wait | Refuse:
        platform, media = Platform(claim.platform), group.media
        too_large = [m for m in media if m.too_large]
        missing: list[MediaContext] = []
        # Most posts have no files: asking the store about none still cost a pass through the
        # event loop per post (an empty gather).
        if media and not too_large:
            too_large, missing = await self._check_files(media)
        if too_large:
            name = too_large[0].storage_key.rsplit("/", 1)[-1]
            return Refuse(
                f"{name} is larger than the {describe_bytes(self.max_bytes)} upload limit; it "
                "was deleted and the post was not published",
                "MEDIA_TOO_LARGE",
            )
        if missing:
            # From the time the user asked for: due_at itself moves with every wait.
            asked_for = group.scheduled_at or claim.due_at
            if utc_now() < asked_for + self.max_wait:
                return Wait(utc_now() + RECHECK_AFTER)
            return Refuse(
                f"{len(missing)} media upload(s) never finished; the post was not published",
                "MEDIA_NOT_UPLOADED",
            )
        try:
            check_ready_to_publish(platform, [AttachedMedia(m.kind, m.content_type) for m in media])
            for video in (m for m in media if m.kind == "video"):
                check_video(platform, await self._frame_rate(video))
        except MediaRuleError as exc:
            return Refuse(str(exc), "MEDIA_NOT_ACCEPTED")
        # Checked at attach time too; the settings may have changed since (HERALD_PUBLIC_URL).
        unreachable = first_unreachable(
            [platform], [m.public_url for m in media], self.store.reachable_networks
        )
        if unreachable is not None:
            return Refuse(not_public_message(*unreachable), PUBLIC_MEDIA_CODE)
        return Ready(self._items(platform, media, group.alt_texts))

    async def _frame_rate(self, video: MediaContext) -> float | None:
        """Probed where the file is at hand (local store); an S3 object would need a download."""
        if not isinstance(self.store, LocalMediaStore):
            return None
        info = await asyncio.to_thread(probe_video, self.store.path_for(video.storage_key))
        return info.fps if info is not None else None

    async def _check_files(
        self, media: list[MediaContext]
    ) -> tuple[list[MediaContext], list[MediaContext]]:
        """(over the cap, not there) after asking the store about every file: uploads go
        straight to it (S3 never tells Herald), and until its URL dies a client may replace an
        S3 object that was ready. Files over the cap are deleted and their rows marked."""
        stats: list[StoredFile | None] = list(
            await asyncio.gather(*(self.store.stat(m.storage_key) for m in media))
        )
        found = [(m, s) for m, s in zip(media, stats, strict=True) if s is not None]
        too_large = [m for m, s in found if s.size > self.max_bytes]
        arrived = {m.id: s.size for m, s in found if not m.ready and s.size <= self.max_bytes}
        if too_large:
            await delete_files(self.store, [m.storage_key for m in too_large])
        if arrived or too_large:

            async def mark(session: AsyncSession) -> None:
                records = MediaRecordStore(session)
                await records.mark_ready(arrived, arrived)
                await records.mark_too_large(m.id for m in too_large)

            await self.writer.run(mark)
        return too_large, [m for m, s in zip(media, stats, strict=True) if s is None]

    def _items(
        self, platform: Platform, media: list[MediaContext], alt_texts: list[str]
    ) -> list[MediaItem]:
        items, image_index = [], 0
        for m in media:
            alt = None
            if m.kind == "image":
                # altTexts belong to images by upload order (PL/bluesky).
                alt = alt_texts[image_index] if image_index < len(alt_texts) else None
                image_index += 1
            convert = needs_jpeg(platform, m.content_type)
            limit = image_byte_limit(platform) if m.kind == "image" else None
            if limit is not None and m.size is not None and m.size <= limit:
                limit = None  # known to fit: stream it as it is instead of reading it whole
            items.append(
                MediaItem(
                    kind=m.kind,
                    content_type="image/jpeg" if convert else m.content_type,
                    url=m.public_url,
                    alt_text=alt,
                    open=self._opener(m.storage_key, convert, limit),
                    # Converting or shrinking changes the size: then it is known only once read.
                    size=m.size if not convert and limit is None else None,
                )
            )
        return items

    def artwork(self, group: GroupContext) -> dict[str, MediaItem]:
        """The group's thumbnails and covers by id, streamed from the store as they are."""
        return {
            art_id: MediaItem(
                kind="image",
                content_type=art.content_type,
                url=art.public_url,
                open=self._opener(art.storage_key, False, None),
                size=art.size,
            )
            for art_id, art in group.artwork.items()
        }

    def _opener(
        self, key: str, to_jpeg: bool, max_bytes: int | None
    ) -> Callable[[], AsyncIterator[bytes]]:
        if not to_jpeg and max_bytes is None:
            return lambda: self.store.open(key)

        async def processed() -> AsyncIterator[bytes]:
            data = b"".join([chunk async for chunk in self.store.open(key)])
            if to_jpeg:
                data = await asyncio.to_thread(webp_to_jpeg, data)
            if max_bytes is not None:
                data = await asyncio.to_thread(fit_image, data, max_bytes)
            yield data

        return processed

    async def sweep(self, sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
        """Uploads whose URL expired, looked at once more now that the file cannot change: kept
        if it arrived within the cap, deleted and marked if over it, forgotten if it never came.
        The store is asked outside any transaction; rows change in short ones."""
        async with unit_of_work(sessions, write=False) as session:
            rows = await MediaRecordStore(session).unsettled_before(now, SWEEP_BATCH)
            stale = [_Unsettled(m.id, m.storage_key, m.status) for m in rows]  # outlive the session
        if not stale:
            return 0
        stats = await asyncio.gather(*(self.store.stat(row.key) for row in stale))
        seen = list(zip(stale, stats, strict=True))
        too_large = [
            r
            for r, s in seen
            if r.status == "too_large" or (s is not None and s.size > self.max_bytes)
        ]
        arrived = {r.id: s.size for r, s in seen if s is not None and r not in too_large}
        gone = [r for r, s in seen if s is None and r.status == "awaiting_upload"]
        vanished = [r.id for r, s in seen if s is None and r.status == "ready"]
        async with unit_of_work(sessions) as session:
            records = MediaRecordStore(session)
            await records.mark_ready(arrived, arrived, settled=True)
            await records.mark_too_large((r.id for r in too_large), settled=True)
            await records.mark_settled(vanished)
            await records.remove(r.id for r in gone)
        await delete_files(self.store, [r.key for r in (*too_large, *gone)])
        return len(stale)
