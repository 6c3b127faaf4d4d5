"""A video to YouTube through the API, the engine and the YouTube simulator over loopback: the
title and playlist from platformSettings, the thumbnail from upload-youtube-thumbnail; get-post
then shows the video's id and URL."""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import timedelta
from typing import Any

from PIL import Image
from sqlalchemy import select

from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import utc_now
from herald.engine.dispatcher import Engine
from herald.models import PublishTarget, UploadSession
from herald.platforms.base import Profile
from herald.services.connection import save_connection, verify_account
from herald.services.connection_inputs import ConnectionInput
from media_support import box, mp4, video_trak
from sim_support import UNHELD_CALL_TIMEOUT_S, platform_client
from support import (
    LiveServer,
    Tenant,
    attach_file,
    iso_in,
    post_when,
    running_engine,
    target_rows,
    update_target,
    wait_until,
)
from youtube_support import CHANNEL_ID, PLAYLIST_ID, YouTubeControl, youtube_sim, youtube_sim_url

__all__ = ["youtube_sim", "youtube_sim_url"]  # fixtures, found by pytest through the module's names

CHUNK = 256 * 1024
CONTENT = "Weekly Vlog: what I learned shipping three features in five days, and what broke"


def connect_youtube(server: LiveServer, tenant: Tenant, youtube_sim: YouTubeControl) -> str:
    """The connection the OAuth callback would store, with a token the simulator minted."""
    minted = youtube_sim.mint()
    request = ConnectionInput(
        Platform.YOUTUBE,
        credentials={
            "accessToken": minted["access_token"],
            "refreshToken": minted.get("refresh_token"),
            "expiresAt": None,
            "scope": minted["scope"],
        },
        options={"apiUrl": youtube_sim.base_url, "chunkBytes": CHUNK},
    )

    async def verify() -> Profile:
        async with platform_client(UNHELD_CALL_TIMEOUT_S) as http:
            return await verify_account(request, http, server.settings)

    profile = asyncio.run(verify())

    async def save(session: Any) -> str:
        connection = await save_connection(
            session, server.context.secret_box, tenant.account_id, request, profile
        )
        return platform_id(Platform.YOUTUBE, connection.external_id)

    return server.transaction(save)


def a_video(size: int) -> bytes:
    """A 30 fps MP4 padded to about `size` bytes."""
    trak = video_trak(1280, 720, 30000, [(60, 1001)])
    return mp4(trak, mdat=box(b"mdat", bytes(range(256)) * (size // 256)))


def a_thumbnail() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1280, 720), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_video_with_title_playlist_and_thumbnail_reaches_youtube(
    engine: Engine, server: LiveServer, tenant: Tenant, youtube_sim: YouTubeControl
) -> None:
    connection = connect_youtube(server, tenant, youtube_sim)
    assert connection == f"youtube-{CHANNEL_ID}"
    settings = {
        "youtube": {
            "title": "Three features in five days",
            "privacy": "unlisted",
            "playlist": {"id": PLAYLIST_ID, "platformId": connection},
        }
    }
    created = tenant.client.post(
        "/create-post",
        json={
            "content": CONTENT,
            "platforms": [connection],
            "status": "draft",
            "platformSettings": settings,
        },
    )
    assert created.status_code == 200, created.text
    group_id = created.json()["postGroupId"]
    video = a_video(3 * CHUNK)
    attach_file(tenant, group_id, "vlog.mp4", video, "video/mp4")
    thumb = tenant.client.post(
        "/upload-youtube-thumbnail",
        data={"postGroupId": group_id},
        files={"thumbnail": ("t.jpg", a_thumbnail(), "image/jpeg")},
    )
    assert thumb.status_code == 200, thumb.text
    updated = tenant.client.put(
        f"/update-post/{group_id}",
        json={
            "platformSettings": {"youtube": {"thumbnail": thumb.json()["thumbnail"]}},
            "scheduledTime": iso_in(seconds=1),
        },
    )
    assert updated.status_code == 200, updated.text

    body = post_when(tenant, group_id, "published", "failed", timeout=30)
    [post] = body["posts"]
    assert post["status"] == "published", post
    [uploaded] = youtube_sim.videos()
    assert uploaded["sha256"] == hashlib.sha256(video).hexdigest()
    assert uploaded["title"] == "Three features in five days"
    assert uploaded["description"] == CONTENT
    assert uploaded["privacyStatus"] == "unlisted"
    assert post["postedId"] == uploaded["id"]
    assert post["permalink"] == f"https://www.youtube.com/watch?v={uploaded['id']}"
    extras = youtube_sim.extras()
    assert extras["playlistItems"] == [
        {
            "id": extras["playlistItems"][0]["id"],
            "playlistId": PLAYLIST_ID,
            "videoId": uploaded["id"],
        }
    ]
    assert extras["thumbnails"][uploaded["id"]]["content_type"] == "image/jpeg"
    assert youtube_sim.stats()["bytes_received"] == len(video)


def _checkpoint(server: LiveServer, group_id: str) -> Any:
    """The group's one target's upload checkpoint row, if one was saved."""

    async def read(session: Any) -> Any:
        query = (
            select(UploadSession)
            .join(PublishTarget, PublishTarget.id == UploadSession.target_id)
            .where(PublishTarget.post_group_id == group_id)
        )
        return await session.scalar(query)

    return server.transaction(read)


def test_a_worker_that_lost_its_claim_mid_upload_stops_and_writes_nothing(
    server: LiveServer, tenant: Tenant, youtube_sim: YouTubeControl
) -> None:
    # The second chunk is held 5 s, then refused: the window in which the claim changes hands.
    youtube_sim.configure(hang_s=5.0)
    youtube_sim.script_upload("ok", "timeout")
    connection = connect_youtube(server, tenant, youtube_sim)
    created = tenant.client.post(
        "/create-post", json={"content": CONTENT, "platforms": [connection], "status": "draft"}
    )
    assert created.status_code == 200, created.text
    group_id = created.json()["postGroupId"]
    attach_file(tenant, group_id, "vlog.mp4", a_video(4 * CHUNK), "video/mp4")
    settings = server.settings.model_copy(
        update={"engine_http_timeout_seconds": 10.0, "engine_lease_seconds": 30.0}
    )
    with running_engine(server, settings) as engine:
        scheduled = tenant.client.put(
            f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
        )
        assert scheduled.status_code == 200, scheduled.text
        wait_until(lambda: (row := _checkpoint(server, group_id)) and row.confirmed_bytes == CHUNK)
        # Its lease ran out behind a partition; another worker holds the target now.
        [claimed] = target_rows(server, group_id)
        taken = {
            "claim_token": claimed.claim_token + 1,
            "lease_owner": "another-worker",
            "lease_until": utc_now() + timedelta(hours=1),
        }
        update_target(server, group_id, **taken)
        wait_until(lambda: engine.metrics.fenced.values.get("upload"), timeout=30)
    [target] = target_rows(server, group_id)
    assert (target.state, target.claim_token, target.lease_owner) == (
        "publishing",
        taken["claim_token"],
        "another-worker",
    )
    assert target.published_at is None
    # The checkpoint is where the stale worker last held the claim; its next chunk never left.
    assert _checkpoint(server, group_id).confirmed_bytes == CHUNK
    assert youtube_sim.stats()["bytes_received"] == CHUNK
    assert youtube_sim.videos() == []
