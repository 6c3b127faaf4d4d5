"""A large video to YouTube through the API and the engine: create-post with title and playlist,
get-upload-url and a streamed PUT, upload-youtube-thumbnail, update-post to schedule it; then
get-post's id and URL, and what the YouTube simulator received.

Usage: python bench/youtube_api.py [--megabytes 200]
`herald serve` (embedded, SQLite) and `herald sim youtube`, each in its own process. Exit status
1 unless the post is published with the simulator's video id, the video arrived whole with its
title, and the playlist item and thumbnail were applied."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
from _harness import (
    Children,
    Simulator,
    bench_database,
    child_env,
    free_port,
    herald_env,
    new_secret_key,
    raise_on_sigterm,
    session_for,
    wait_until_up,
    workspace,
)
from PIL import Image

from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import format_timestamp, utc_now
from herald.platforms.base import Profile
from herald.services.account import create_account, issue_api_key
from herald.services.connection import save_connection
from herald.services.connection_inputs import ConnectionInput
from herald.services.secret_box import SecretBox

MB = 1024 * 1024
HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
TITLE = "Two hundred megabytes, resumably"


async def seed(url: str, key: str, sim: Simulator) -> tuple[str, str]:
    """An account with an API key and a YouTube connection to the simulator."""
    token = await sim.call("POST", "/_sim/tokens", {})
    channel = (await sim.call("GET", "/_sim/config"))["channel_id"]
    request = ConnectionInput(
        Platform.YOUTUBE,
        credentials={"accessToken": token["access_token"], "refreshToken": token["refresh_token"]},
        options={"apiUrl": sim.url},
    )
    async with session_for(url) as session:
        account = await create_account(session, "Video", workspace=True)
        api_key, _ = await issue_api_key(session, account.id)
        profile = Profile(channel, "heraldsim", "Herald Sim")
        connection = await save_connection(session, SecretBox(key), account.id, request, profile)
    return api_key, platform_id(Platform.YOUTUBE, connection.external_id)


async def video_body(size: int, digest: Any) -> AsyncIterator[bytes]:
    """An MP4 head, then a counting pattern, streamed: never the whole file in memory."""
    piece = bytes(range(256)) * 4096
    sent = 0
    while sent < size:
        chunk = (HEAD + piece)[: size - sent] if sent == 0 else piece[: size - sent]
        digest.update(chunk)
        sent += len(chunk)
        yield chunk


def thumbnail() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1280, 720), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def publish(api: httpx.AsyncClient, platform: str, size: int, playlist: str) -> Any:
    settings = {
        "youtube": {
            "title": TITLE,
            "privacy": "unlisted",
            "playlist": {"id": playlist, "platformId": platform},
        }
    }
    created = await api.post(
        "/create-post",
        json={
            "content": "A long video, uploaded in chunks",
            "platforms": [platform],
            "status": "draft",
            "platformSettings": settings,
        },
    )
    created.raise_for_status()
    group_id = created.json()["postGroupId"]
    ticket = await api.post(
        "/get-upload-url",
        json={"postGroupId": group_id, "fileName": "long.mp4", "contentType": "video/mp4"},
    )
    ticket.raise_for_status()
    digest = hashlib.sha256()
    put = await api.put(
        ticket.json()["uploadUrl"],
        content=video_body(size, digest),
        headers={"Content-Type": "video/mp4"},
    )
    put.raise_for_status()
    thumb = await api.post(
        "/upload-youtube-thumbnail",
        data={"postGroupId": group_id},
        files={"thumbnail": ("t.jpg", thumbnail(), "image/jpeg")},
    )
    thumb.raise_for_status()
    when = format_timestamp(utc_now() + timedelta(seconds=2))
    updated = await api.put(
        f"/update-post/{group_id}",
        json={
            "platformSettings": {"youtube": {"thumbnail": thumb.json()["thumbnail"]}},
            "scheduledTime": when,
        },
    )
    updated.raise_for_status()
    return group_id, digest.hexdigest()


async def run(options: argparse.Namespace) -> int:
    size = int(options.megabytes * MB)
    with workspace() as workdir:
        key = new_secret_key()
        async with bench_database("sqlite", workdir) as db:
            with Children(workdir, child_env(key)) as children:
                sim = Simulator(children, "youtube")
                await sim.ready()
                api_key, platform = await seed(db.url, key, sim)
                playlist = (await sim.call("GET", "/_sim/config"))["playlist_ids"][0]
                port = free_port()
                env = herald_env(media_max_upload_bytes=2 * size, engine_http_timeout_seconds=60)
                serve = children.start(
                    "serve", "--data-dir", str(db.data_dir), "serve", "--port", str(port), env=env
                )
                base = f"http://127.0.0.1:{port}"
                await wait_until_up(serve, url=f"{base}/healthz")
                headers = {"x-publora-key": api_key}
                async with httpx.AsyncClient(
                    base_url=f"{base}/api/v1", headers=headers, timeout=600
                ) as api:
                    started = time.monotonic()
                    group_id, sha = await publish(api, platform, size, playlist)
                    post: dict[str, Any] = {}
                    while time.monotonic() - started < options.timeout:
                        post = (await api.get(f"/get-post/{group_id}")).json()["posts"][0]
                        if post["status"] in ("published", "failed"):
                            break
                        await asyncio.sleep(0.5)
                    elapsed = time.monotonic() - started
                videos = (await sim.call("GET", "/_sim/videos"))["videos"]
                extras = await sim.call("GET", "/_sim/extras")
    return report(size, sha, post, videos, extras, elapsed)


def report(
    size: int, sha: str, post: dict[str, Any], videos: list[Any], extras: Any, elapsed: float
) -> int:
    print(f"video {size:,} bytes through the API: {post.get('status')} after {elapsed:.1f} s")
    print(f"get-post: postedId {post.get('postedId')}, permalink {post.get('permalink')}")
    whole = [v for v in videos if v["size"] == size and v["sha256"] == sha and v["title"] == TITLE]
    video_id = whole[0]["id"] if whole else None
    playlisted = [i for i in extras["playlistItems"] if i["videoId"] == video_id]
    print(
        f"on YouTube: {len(videos)} video(s), whole with its title: {len(whole)}; "
        f"playlist items: {len(playlisted)}; thumbnail: {video_id in extras['thumbnails']}"
    )
    good = (
        post.get("status") == "published"
        and len(videos) == 1 == len(whole)
        and post.get("postedId") == video_id
        and len(playlisted) == 1
        and video_id in extras["thumbnails"]
    )
    print("PASS" if good else "FAIL")
    return 0 if good else 1


def main() -> None:
    raise_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=200.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
