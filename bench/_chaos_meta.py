"""Chaos with Instagram as the platform: one simulated Instagram account per connection, posts
with one image each (Instagram has no text-only posts), the file served by `herald serve` on
loopback and fetched by the Meta simulator, as Meta fetches from a public URL."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from _harness import (
    FAR_FUTURE,
    BenchDb,
    Children,
    Simulator,
    Tenant,
    free_port,
    herald_env,
    session_for,
    wait_until_up,
)

from herald.domain.ids import new_id
from herald.domain.platform import Platform
from herald.domain.timestamps import parse_timestamp, utc_now
from herald.media.local import LocalMediaStore
from herald.models import Media
from herald.platforms.base import Profile
from herald.services.account import create_account
from herald.services.connection import save_connection
from herald.services.connection_inputs import ConnectionInput
from herald.services.post import NewPost, create_post
from herald.services.secret_box import SecretBox

# A 1x1 PNG: what the simulator fetches for every post.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d7"
    "63f8cfc000000301010018dd8db00000000049454e44ae426082"
)
# Workers publish files on loopback URLs: only the simulator fetches them.
WORKER_SETTINGS = {"media_reachable_networks": "127.0.0.0/8"}


async def seed_instagram(options: object, db: BenchDb, sim: Simulator, secret: str) -> Tenant:
    """Pages with linked Instagram accounts on the simulator, one connection each, stored as
    the login stores them (the Page owner's token), and a quota no run reaches."""
    count = int(getattr(options, "connections"))  # noqa: B009 - chaos.Options, not imported
    pages = (await sim.call("POST", "/_sim/pages", {"count": count}))["pages"]
    token = (await sim.call("POST", "/_sim/tokens", {"user_id": "10000000000001"}))["access_token"]
    await sim.call("POST", "/_sim/config", {"instagram_quota": 10_000_000})
    box = SecretBox(secret)
    async with session_for(db.url) as session:
        account = await create_account(session, "Bench", workspace=True)
        made = []
        for page in pages:
            request = ConnectionInput(
                Platform.INSTAGRAM,
                credentials={"accessToken": token},
                options={"apiUrl": sim.url, "username": page["username"]},
            )
            profile = Profile(page["instagram_id"], f"@{page['username']}", page["username"])
            made.append(await save_connection(session, box, account.id, request, profile))
    return Tenant(account.id, made)


async def serve_files(children: Children, db: BenchDb, workdir: Path) -> str:
    """`herald serve --no-engine` on the workers' data dir: the files' public URL base."""
    port = free_port()
    data_dir = workdir / "herald-data"
    args = ("--data-dir", str(data_dir), "serve", "--no-engine", "--port", str(port))
    child = children.start("files", *args, env=herald_env(database_url=db.url))
    await wait_until_up(child, url=f"http://127.0.0.1:{port}/healthz")
    return f"http://127.0.0.1:{port}"


async def create_image_groups(
    db: BenchDb, tenant: Tenant, count: int, workdir: Path, files_url: str
) -> None:
    """`count` groups, one Instagram target and one image each, the image stored in the
    workers' media store as an upload would leave it; due far ahead until `set_due`."""
    store = LocalMediaStore(workdir / "herald-data" / "media", files_url, secrets.token_bytes(32))
    platforms = tenant.platform_ids
    try:
        async with session_for(db.url) as session:
            for number in range(count):
                key = f"bench/{new_id()}/{secrets.token_hex(16)}/pixel.png"
                await store.put(key, "image/png", PIXEL)
                new = NewPost(
                    content=f"Benchmark post {number}: hello from Herald",
                    platform_ids=[platforms[number % len(platforms)]],
                    scheduled_at=utc_now() + FAR_FUTURE,
                    media_urls=[store.public_url(key)],  # counted by the scheduling gate
                )
                group = await create_post(session, tenant.account_id, new, utc_now())
                session.add(
                    Media(
                        id=new_id(),
                        post_group_id=group.id,
                        kind="image",
                        content_type="image/png",
                        file_name="pixel.png",
                        size=len(PIXEL),
                        storage_key=key,
                        public_url=store.public_url(key),
                        status="ready",
                        position=0,
                    )
                )
    finally:
        store.close()


async def instagram_posts(sim: Simulator) -> dict[str, list[datetime]]:
    """Every published Instagram post by its caption (each target's text is unique)."""
    found: defaultdict[str, list[datetime]] = defaultdict(list)
    for item in (await sim.call("GET", "/_sim/published?host=instagram"))["published"]:
        found[item["text"]].append(parse_timestamp(item["timestamp"].replace("+00:00", "Z")))
    return dict(found)
