"""A video and a photo post to TikTok through the API, the engine and the TikTok simulator over
loopback; get-post then shows each post's id and URL."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx

from herald.domain.platform import Platform, platform_id
from herald.engine.dispatcher import Engine
from herald.platforms.base import Profile
from herald.services.connection import save_connection, verify_account
from herald.services.connection_inputs import ConnectionInput
from media_support import box, mp4, video_trak
from sim_support import UNHELD_CALL_TIMEOUT_S, platform_client
from support import LiveServer, Tenant, iso_in, png, post_when
from tiktok_support import OPEN_ID, USERNAME, TikTokControl, tiktok_sim, tiktok_sim_url

__all__ = ["tiktok_sim", "tiktok_sim_url"]  # fixtures, found by pytest through the module's names


def connect_tiktok(server: LiveServer, tenant: Tenant, tiktok_sim: TikTokControl) -> str:
    """The connection the OAuth callback would store, with a token the simulator minted."""
    minted = tiktok_sim.mint()
    request = ConnectionInput(
        Platform.TIKTOK,
        credentials={
            "accessToken": minted["access_token"],
            "refreshToken": minted["refresh_token"],
            "expiresAt": None,
            "scope": minted["scope"],
        },
        options={"apiUrl": tiktok_sim.base_url},
    )

    async def verify() -> Profile:
        async with platform_client(UNHELD_CALL_TIMEOUT_S) as http:
            return await verify_account(request, http, server.settings)

    profile = asyncio.run(verify())

    async def save(session: Any) -> str:
        connection = await save_connection(
            session, server.context.secret_box, tenant.account_id, request, profile
        )
        return platform_id(Platform.TIKTOK, connection.external_id)

    return server.transaction(save)


def schedule(
    tenant: Tenant,
    connection: str,
    content: str,
    files: list[tuple[str, bytes, str]],
    settings: dict[str, Any],
) -> str:
    created = tenant.client.post(
        "/create-post",
        json={
            "content": content,
            "platforms": [connection],
            "status": "draft",
            "platformSettings": {"tiktok": settings},
        },
    )
    assert created.status_code == 200, created.text
    group_id: str = created.json()["postGroupId"]
    for name, data, content_type in files:
        ticket = tenant.client.post(
            "/get-upload-url",
            json={"postGroupId": group_id, "fileName": name, "contentType": content_type},
        )
        assert ticket.status_code == 200, ticket.text
        put = httpx.put(
            ticket.json()["uploadUrl"], content=data, headers={"Content-Type": content_type}
        )
        assert put.status_code == 200, put.text
    scheduled = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
    )
    assert scheduled.status_code == 200, scheduled.text
    return group_id


def test_a_video_and_a_photo_post_reach_tiktok(
    engine: Engine, server: LiveServer, tenant: Tenant, tiktok_sim: TikTokControl
) -> None:
    connection = connect_tiktok(server, tenant, tiktok_sim)
    assert connection == f"tiktok-{OPEN_ID}"
    video = mp4(
        video_trak(720, 1280, 30000, [(90, 1001)]), mdat=box(b"mdat", bytes(range(256)) * 800)
    )
    video_group = schedule(
        tenant,
        connection,
        "Lake day, in motion",
        [("lake.mp4", video, "video/mp4")],
        {"viewerSetting": "SELF_ONLY", "allowComments": False},
    )
    photos = [png((10, 120, 200), (64, 64)), png((240, 140, 20), (48, 80))]
    photo_group = schedule(
        tenant,
        connection,
        "Lake day, in stills",
        [(f"p{n}.png", p, "image/png") for n, p in enumerate(photos)],
        {},
    )

    video_post = post_when(tenant, video_group, "published", "failed", timeout=30)["posts"][0]
    photo_post = post_when(tenant, photo_group, "published", "failed", timeout=30)["posts"][0]
    assert video_post["status"] == photo_post["status"] == "published", (video_post, photo_post)
    posts = {p["kind"]: p for p in tiktok_sim.listing("posts")}
    assert posts["video"]["sha256"] == hashlib.sha256(video).hexdigest()
    assert posts["video"]["post_info"]["privacy_level"] == "SELF_ONLY"
    assert posts["video"]["post_info"]["disable_comment"] is True
    assert len(posts["photo"]["urls"]) == 2
    assert posts["photo"]["post_info"]["description"] == "Lake day, in stills"
    for kind, post in (("video", video_post), ("photo", photo_post)):
        post_id = posts[kind]["post_id"]
        assert post["postedId"] == post_id
        assert post["permalink"] == f"https://www.tiktok.com/@{USERNAME}/{kind}/{post_id}"
    assert tiktok_sim.stats()["creator_queries"] == 2
