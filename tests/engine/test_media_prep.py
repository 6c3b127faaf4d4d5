"""What connectors receive for media: streams from the store, WebP turned into JPEG where the
platform does not take WebP, alt texts by image order."""

from __future__ import annotations

import asyncio
import io
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from herald.domain.platform import Platform
from herald.engine.media_prep import MediaPreparer, Ready, Refuse
from herald.media.local import LocalMediaStore
from herald.store.publish_context import GroupContext, MediaContext
from herald.store.publish_queue import ClaimedTarget

MIB = 1024 * 1024


def webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 128)).save(buffer, "WEBP")
    return buffer.getvalue()


def claim(platform: str) -> ClaimedTarget:
    now = datetime.now(UTC)
    return ClaimedTarget(
        "t" * 24,
        "g" * 24,
        "c" * 24,
        platform,
        "acct",
        1,
        1,
        "key",
        {},
        ["text"],
        now,
        None,
        0,
        None,
        1,
    )


def test_webp_is_streamed_as_jpeg_for_bluesky_and_as_is_for_x(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path, "http://127.0.0.1:1", secrets.token_bytes(32))
    key = f"{'g' * 24}/{'m' * 24}/pic.webp"

    async def scenario() -> tuple[Ready | object, Ready | object]:
        expires = datetime.now(UTC) + timedelta(minutes=5)
        await store.presign_upload(key, "image/webp", expires)

        async def body() -> object:
            yield webp()

        await store.receive(key, body())  # type: ignore[arg-type]
        media = [MediaContext("m" * 24, "image", "image/webp", key, store.public_url(key), True)]
        group = GroupContext({}, ["red square"], media, None)
        preparer = MediaPreparer(store, writer=None, max_wait=timedelta(0), max_bytes=MIB)  # type: ignore[arg-type]
        return (
            await preparer.prepare(claim("bluesky"), group),
            await preparer.prepare(claim("twitter"), group),
        )

    bluesky, twitter = asyncio.run(scenario())
    assert isinstance(bluesky, Ready)
    assert isinstance(twitter, Ready)
    (item,) = bluesky.items
    assert (item.content_type, item.alt_text, item.kind) == ("image/jpeg", "red square", "image")
    assert item.open is not None

    async def read(stream_factory: object) -> bytes:
        return b"".join([chunk async for chunk in stream_factory()])  # type: ignore[operator]

    converted = asyncio.run(read(item.open))
    assert Image.open(io.BytesIO(converted)).format == "JPEG"
    assert twitter.items[0].content_type == "image/webp"
    assert asyncio.run(read(twitter.items[0].open)) == webp()
    store.close()


def test_media_first_platforms_without_media_are_refused(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path, "http://127.0.0.1:1", secrets.token_bytes(32))
    preparer = MediaPreparer(store, writer=None, max_wait=timedelta(0), max_bytes=MIB)  # type: ignore[arg-type]
    result = asyncio.run(
        preparer.prepare(claim(Platform.INSTAGRAM.value), GroupContext({}, [], [], None))
    )
    assert result == Refuse("instagram needs images and videos to publish", "MEDIA_NOT_ACCEPTED")
    store.close()


@pytest.mark.parametrize(("fps", "refused"), [(15, True), (30, False)])
def test_tiktok_video_frame_rate_is_probed(tmp_path: Path, fps: int, refused: bool) -> None:
    from media_support import mp4, video_trak

    store = LocalMediaStore(tmp_path, "http://127.0.0.1:1", secrets.token_bytes(32))
    key = f"{'g' * 24}/{'v' * 24}/clip.mp4"
    video = mp4(video_trak(640, 360, fps, [(2 * fps, 1)]))

    async def scenario() -> object:
        await store.presign_upload(key, "video/mp4", datetime.now(UTC) + timedelta(minutes=5))

        async def body() -> object:
            yield video

        await store.receive(key, body())  # type: ignore[arg-type]
        media = [MediaContext("v" * 24, "video", "video/mp4", key, store.public_url(key), True)]
        preparer = MediaPreparer(store, writer=None, max_wait=timedelta(0), max_bytes=MIB)  # type: ignore[arg-type]
        return await preparer.prepare(claim("tiktok"), GroupContext({}, [], media, None))

    result = asyncio.run(scenario())
    if refused:
        assert result == Refuse("Video FPS is below minimum requirement", "MEDIA_NOT_ACCEPTED")
    else:
        assert isinstance(result, Ready)
        assert [item.kind for item in result.items] == ["video"]
    store.close()


def test_a_file_meta_cannot_reach_is_refused_before_publishing(tmp_path: Path) -> None:
    """Checked when attached, and again here: HERALD_PUBLIC_URL may have changed since."""
    store = LocalMediaStore(tmp_path, "http://192.168.1.20:8080", secrets.token_bytes(32))
    key = f"{'g' * 24}/{'m' * 24}/pic.png"

    async def scenario(platform: str) -> object:
        await store.presign_upload(key, "image/png", datetime.now(UTC) + timedelta(minutes=5))

        async def body() -> object:
            yield b"\x89PNG\r\n\x1a\n" + bytes(64)

        await store.receive(key, body())  # type: ignore[arg-type]
        media = [MediaContext("m" * 24, "image", "image/png", key, store.public_url(key), True)]
        preparer = MediaPreparer(store, writer=None, max_wait=timedelta(0), max_bytes=MIB)  # type: ignore[arg-type]
        return await preparer.prepare(claim(platform), GroupContext({}, [], media, None))

    refused = asyncio.run(scenario("instagram"))
    assert isinstance(refused, Refuse)
    assert refused.code == "MEDIA_NOT_PUBLIC"
    assert "HERALD_PUBLIC_URL" in refused.message
    assert "http://192.168.1.20:8080" in refused.message
    # X uploads the bytes itself: the address does not matter to it.
    assert isinstance(asyncio.run(scenario("twitter")), Ready)
    store.close()
