"""The YouTube connector against the YouTube simulator over loopback: the resumable upload, its
checkpoint resumed after a lost answer or a dead worker, metadata, quota and lookup."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from herald.domain.platform import Platform
from herald.platforms.base import (
    AuthExpiredError,
    ClaimLostError,
    MediaItem,
    PublishRequest,
    RetryableError,
    UploadCheckpoint,
)
from herald.platforms.youtube import YouTubeConnector
from herald.platforms.youtube.api import until_quota_reset
from sim_support import platform_client
from youtube_support import (
    CHANNEL_ID,
    KIB,
    PLAYLIST_ID,
    YouTubeControl,
    video_bytes,
    youtube_sim,
    youtube_sim_url,
)

__all__ = ["youtube_sim", "youtube_sim_url"]
CHUNK = 256 * KIB


class MemoryJournal:
    """An UploadJournal in memory, recording every save."""

    def __init__(self) -> None:
        self.saved: list[UploadCheckpoint] = []

    async def load(self) -> UploadCheckpoint | None:
        return self.saved[-1] if self.saved else None

    async def save(self, checkpoint: UploadCheckpoint) -> None:
        self.saved.append(checkpoint)


class LosingJournal(MemoryJournal):
    """Keeps `kept` checkpoints, then refuses the next, as the engine's journal does once the
    worker's claim was rescued."""

    def __init__(self, kept: int) -> None:
        super().__init__()
        self.kept = kept

    async def save(self, checkpoint: UploadCheckpoint) -> None:
        if len(self.saved) == self.kept:
            raise ClaimLostError("claimed again")
        await super().save(checkpoint)


def opener(data: bytes, piece: int = 100_000) -> Callable[[], AsyncIterator[bytes]]:
    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(data), piece):
            yield data[start : start + piece]

    return stream


def video_request(
    base_url: str, token: str, data: bytes, journal: MemoryJournal | None = None, **fields: Any
) -> PublishRequest:
    values: dict[str, Any] = {
        "target_id": "t-1",
        "platform": Platform.YOUTUBE,
        "account_external_id": CHANNEL_ID,
        "text": "Weekly Vlog: What I learned shipping 3 features in 5 days. This week we go deeper",
        "media": (MediaItem("video", "video/mp4", "", open=opener(data), size=len(data)),),
        "options": {"apiUrl": base_url, "chunkBytes": CHUNK},
        "credentials": {"accessToken": token},
        "uploads": journal,
    }
    values.update(fields)
    return PublishRequest(**values)


def publish(request: PublishRequest, connector: YouTubeConnector | None = None) -> Any:
    async def run() -> Any:
        async with platform_client(timeout_seconds=1.0) as http:
            return await (connector or YouTubeConnector(polls=(0.05,))).publish(http, request, "k")

    return asyncio.run(run())


def lookup(request: PublishRequest) -> Any:
    async def run() -> Any:
        async with platform_client() as http:
            return await YouTubeConnector().lookup(http, request, "k")

    return asyncio.run(run())


def test_a_video_is_uploaded_in_chunks_with_its_metadata_and_checkpoints(
    youtube_sim: YouTubeControl,
) -> None:
    data, journal = video_bytes(2 * CHUNK + 5000), MemoryJournal()
    settings = {
        "tags": "herald, video tests",
        "categoryId": "28",
        "privacy": "unlisted",
        "madeForKids": True,
    }
    request = video_request(
        youtube_sim.base_url, youtube_sim.token(), data, journal, settings=settings
    )
    published = publish(request)
    [video] = youtube_sim.videos()
    assert published.external_id == video["id"]
    assert published.url == f"https://www.youtube.com/watch?v={video['id']}"
    assert video["sha256"] == hashlib.sha256(data).hexdigest()
    # Publora's derived title: a word-boundary cut within 70 characters.
    assert video["title"] == "Weekly Vlog: What I learned shipping 3 features in 5 days. This week"
    assert video["description"] == request.text
    assert video["tags"] == ["herald", "video tests"]
    assert (video["categoryId"], video["privacyStatus"]) == ("28", "unlisted")
    assert video["selfDeclaredMadeForKids"] is True
    assert [c.offset for c in journal.saved] == [0, CHUNK, 2 * CHUNK]
    assert youtube_sim.stats()["bytes_received"] == len(data)


def test_a_lost_chunk_answer_resumes_from_the_confirmed_offset(
    youtube_sim: YouTubeControl,
) -> None:
    data = video_bytes(3 * CHUNK, seed=2)
    youtube_sim.script_upload("ok", "lost_response")
    connector = YouTubeConnector()
    publish(
        video_request(youtube_sim.base_url, youtube_sim.token(), data, MemoryJournal()), connector
    )
    stats = youtube_sim.stats()
    assert stats["status_queries"] == 1
    assert stats["bytes_received"] == len(data)
    assert connector.bytes_sent == len(data)  # the lost chunk had landed: not sent again
    assert len(youtube_sim.videos()) == 1


def test_a_new_worker_resumes_a_dead_workers_session_without_a_second_video(
    youtube_sim: YouTubeControl,
) -> None:
    data, journal = video_bytes(4 * CHUNK, seed=5), MemoryJournal()
    token = youtube_sim.token()
    # The first worker dies after two chunks: three failures in a row end its attempt.
    youtube_sim.script_upload("ok", "ok", "unavailable", "unavailable", "unavailable")
    with pytest.raises(RetryableError):
        publish(video_request(youtube_sim.base_url, token, data, journal))
    assert journal.saved[-1].offset == 2 * CHUNK
    assert lookup(video_request(youtube_sim.base_url, token, data, journal)) is None
    connector = YouTubeConnector()
    published = publish(video_request(youtube_sim.base_url, token, data, journal), connector)
    assert connector.bytes_sent == 2 * CHUNK  # from the last confirmed byte
    assert [s["id"] for s in youtube_sim.sessions()] == [journal.saved[0].session.split("=")[-1]]
    [video] = youtube_sim.videos()
    assert video["id"] == published.external_id
    assert video["sha256"] == hashlib.sha256(data).hexdigest()
    found = lookup(video_request(youtube_sim.base_url, token, data, journal))
    assert found.external_id == video["id"]


def test_a_worker_whose_claim_was_lost_stops_at_its_next_checkpoint(
    youtube_sim: YouTubeControl,
) -> None:
    data, journal = video_bytes(4 * CHUNK, seed=6), LosingJournal(kept=3)
    with pytest.raises(ClaimLostError):
        publish(video_request(youtube_sim.base_url, youtube_sim.token(), data, journal))
    # Session opened (0), two chunks confirmed; the third chunk's checkpoint was refused, so
    # the fourth chunk, the one that would make the video, never left.
    assert [c.offset for c in journal.saved] == [0, CHUNK, 2 * CHUNK]
    assert youtube_sim.stats()["bytes_received"] == 3 * CHUNK
    assert youtube_sim.videos() == []


def test_a_lost_answer_to_the_last_chunk_is_settled_by_the_status_query(
    youtube_sim: YouTubeControl,
) -> None:
    data = video_bytes(CHUNK, seed=9)
    youtube_sim.script_upload("lost_response")
    published = publish(video_request(youtube_sim.base_url, youtube_sim.token(), data))
    [video] = youtube_sim.videos()
    assert published.external_id == video["id"]
    assert youtube_sim.stats()["bytes_received"] == len(data)


def test_playlist_and_thumbnail_follow_the_upload(youtube_sim: YouTubeControl) -> None:
    data = video_bytes(CHUNK // 2, seed=4)
    thumb = b"\xff\xd8\xff\xe0" + bytes(3000)
    artwork = {"art-1": MediaItem("image", "image/jpeg", "", open=opener(thumb), size=len(thumb))}
    settings = {
        "title": "Given <title>",
        "playlist": {"id": PLAYLIST_ID, "platformId": "x"},
        "thumbnail": {"mediaId": "art-1", "url": "u"},
    }
    published = publish(
        video_request(
            youtube_sim.base_url, youtube_sim.token(), data, settings=settings, artwork=artwork
        )
    )
    [video] = youtube_sim.videos()
    assert video["title"] == "Given \u2039title\u203a"
    extras = youtube_sim.extras()
    assert extras["playlistItems"][0]["videoId"] == published.external_id
    assert extras["thumbnails"][published.external_id]["size"] == len(thumb)


def test_a_spent_quota_holds_the_connection_until_midnight_pacific(
    youtube_sim: YouTubeControl,
) -> None:
    youtube_sim.configure(daily_uploads=0)
    with pytest.raises(RetryableError) as held:
        publish(video_request(youtube_sim.base_url, youtube_sim.token(), video_bytes(1000)))
    assert held.value.rate_limited
    assert held.value.retry_after is not None
    assert abs(held.value.retry_after - until_quota_reset()) < 5
    assert "quota" in held.value.message


def test_a_refused_token_is_auth_expired(youtube_sim: YouTubeControl) -> None:
    with pytest.raises(AuthExpiredError):
        publish(video_request(youtube_sim.base_url, "ya29.nope", video_bytes(1000)))


def test_verify_reads_the_channel(youtube_sim: YouTubeControl) -> None:
    async def run() -> Any:
        async with platform_client() as http:
            return await YouTubeConnector().verify(
                http, {"accessToken": youtube_sim.token()}, {"apiUrl": youtube_sim.base_url}
            )

    profile = asyncio.run(run())
    assert profile.external_id == CHANNEL_ID
    assert profile.username == "heraldsim"
