"""videos.insert as Google's resumable upload: open a session, PUT the file in chunks from the
confirmed offset, save each confirmed offset, and after a lost answer ask the session where it
stands (`Content-Range: bytes */N`) instead of sending again from the start.

A session holds no video until its last byte arrives, so before the last chunk every failure
is retryable (the checkpoint resumes it); after the last chunk went out, a lost answer is an
unknown outcome that the session itself settles (`lookup`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.net.http_client import HttpResponse
from herald.platforms._upload import ChunkReader
from herald.platforms.base import (
    MediaItem,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
    UploadCheckpoint,
    UploadJournal,
)
from herald.platforms.youtube.api import YouTubeApi

GRANULARITY = 256 * 1024  # every chunk but the last is a multiple of this [docs]
DEFAULT_CHUNK = 32 * GRANULARITY  # 8 MiB: one chunk is what Herald holds in memory
MAX_CHUNK = 256 * GRANULARITY
UPLOAD_PATH = "/upload/youtube/v3/videos"
MAX_FAILURES = 3  # chunk answers lost in a row before the attempt gives up
_RANGE = re.compile(r"bytes=0-(\d+)")


@dataclass(frozen=True)
class Progress:
    """Where a session stands: `video` once complete, else the bytes it holds."""

    offset: int
    video: dict[str, Any] | None = None


def chunk_size(options: Mapping[str, Any]) -> int:
    """The connection's `chunkBytes` (a multiple of 256 KiB up to 64 MiB), else 8 MiB."""
    value = options.get("chunkBytes")
    if isinstance(value, bool) or not isinstance(value, int):
        return DEFAULT_CHUNK
    return value if 0 < value <= MAX_CHUNK and value % GRANULARITY == 0 else DEFAULT_CHUNK


@dataclass
class ResumableUpload:
    api: YouTubeApi
    item: MediaItem
    journal: UploadJournal | None
    chunk_bytes: int
    bytes_sent: int = 0

    async def run(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """The video resource YouTube answered with once the last byte arrived."""
        total = self.item.size
        if total is None or self.item.open is None:
            raise RejectedError("The video's size is unknown; upload it again")
        checkpoint = await self.journal.load() if self.journal else None
        if checkpoint is not None and checkpoint.total == total:
            session = checkpoint.session
            progress = await self.query(session, total, final_sent=True)
            if progress.video is not None:
                return progress.video
        else:
            session = await self.start(metadata, total)
            progress = Progress(0)
            await self._save(session, 0, total)
        return await self._send_from(session, progress.offset, total)

    async def start(self, metadata: dict[str, Any], total: int) -> str:
        answer = await self.api.send(
            "POST",
            UPLOAD_PATH,
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=metadata,
            headers={
                "X-Upload-Content-Length": str(total),
                "X-Upload-Content-Type": self.item.content_type,
            },
        )
        location = answer.headers.get("location")
        if answer.status_code != 200 or not location:
            raise (
                self.api.error(answer)
                if not answer.is_success
                else RetryableError("YouTube opened no upload session")
            )
        if not location.startswith(("http://", "https://")):
            raise RetryableError("YouTube answered an upload session that is not a URL")
        return location

    async def _send_from(self, session: str, offset: int, total: int) -> dict[str, Any]:
        failures = 0
        source = ChunkReader(self.item.open, offset)  # type: ignore[arg-type]
        try:
            while True:
                size = min(self.chunk_bytes, total - offset)
                chunk = await source.read(size)
                final = offset + size >= total
                try:
                    progress = await self._put(session, chunk, offset, total, final)
                    failures = 0
                except (RetryableError, OutcomeUnknownError) as lost:
                    failures += 1
                    if failures >= MAX_FAILURES:
                        raise lost
                    progress = await self.query(session, total, final_sent=final)
                if progress.video is not None:
                    return progress.video
                if progress.offset != offset + size:  # the platform holds less: go back
                    await source.aclose()
                    source = ChunkReader(self.item.open, progress.offset)  # type: ignore[arg-type]
                offset = progress.offset
                await self._save(session, offset, total)
        finally:
            await source.aclose()

    async def _put(
        self, session: str, chunk: bytes, offset: int, total: int, final: bool
    ) -> Progress:
        last = offset + len(chunk) - 1
        self.bytes_sent += len(chunk)
        answer = await self.api.send(
            "PUT",
            session,
            content=chunk,
            headers={
                "Content-Range": f"bytes {offset}-{last}/{total}",
                "Content-Type": self.item.content_type,
            },
            may_exist=final,
            with_token=False,
        )
        return self._progress(answer, final)

    async def query(self, session: str, total: int, *, final_sent: bool) -> Progress:
        """The status query: how many bytes the session holds, or its video."""
        answer = await self.api.send(
            "PUT",
            session,
            content=b"",
            headers={"Content-Range": f"bytes */{total}"},
            may_exist=False,
            with_token=False,
        )
        if answer.status_code == 404 and final_sent:
            raise OutcomeUnknownError(
                "YouTube's upload session expired before Herald learnt how it ended"
            )
        return self._progress(answer, final_sent)

    def _progress(self, answer: HttpResponse, final: bool) -> Progress:
        if answer.status_code == 308:
            found = _RANGE.fullmatch(answer.headers.get("range", "").strip())
            return Progress(int(found[1]) + 1 if found else 0)
        if answer.status_code in (200, 201):
            try:
                video = answer.json()
            except ValueError:
                video = None
            if not isinstance(video, dict) or not isinstance(video.get("id"), str):
                raise OutcomeUnknownError("YouTube's answer to the last chunk was unreadable")
            return Progress(0, video)
        if answer.status_code == 404:
            raise RetryableError("YouTube's upload session expired; a new one will be opened")
        error: PublishError = self.api.error(answer, may_exist=final)
        raise error

    async def _save(self, session: str, offset: int, total: int) -> None:
        if self.journal is not None:
            await self.journal.save(UploadCheckpoint(session, offset, total))
