"""YouTube kills: SIGKILL the worker mid-upload, again and again, across a batch of videos;
every video must exist exactly once, and the bytes sent in all must stay near the file sizes
(uploads resumed from the last confirmed byte, not restarted).

Usage: python bench/youtube_kills.py [--videos 6] [--kills 10] [--megabytes 4]
One `herald sim youtube`, one `herald worker` at a time on a throwaway PostgreSQL database
(engine concurrency 1, so a kill cuts one upload); a worker is killed once the upload under
way has passed half its file, and a fresh one started. Prints the figures; exit status 1 if a
video is missing or doubled, or the bytes sent reach 1.2 x the file sizes."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import (
    Children,
    Simulator,
    bench_database,
    child_env,
    new_secret_key,
    raise_on_sigterm,
    session_for,
    start_worker,
    wait_drain,
    workspace,
)
from sqlalchemy import update

from herald.domain.platform import Platform
from herald.domain.timestamps import utc_now
from herald.models import Media, PublishTarget
from herald.platforms.base import Profile
from herald.services.account import create_account
from herald.services.connection import save_connection
from herald.services.connection_inputs import ConnectionInput
from herald.services.post import EXPIRY_AFTER_DUE, NewPost, create_post
from herald.services.secret_box import SecretBox

CHUNK = 256 * 1024  # the connections' chunk size: many chunks per video, many kill points
PIECE = 1024 * 1024
MAX_KILLS_PER_VIDEO = 2  # the engine parks a target after 3 crashes


@dataclass(frozen=True)
class Video:
    title: str
    key: str
    size: int
    sha256: str


def write_video(path: Path, size: int, seed: int, *, sparse: bool = False) -> str:
    """A file of `size` pseudo-random bytes written piece by piece (or, `sparse`, a hole of
    zeros that takes no disk); its SHA-256."""
    digest, rng = hashlib.sha256(), random.Random(seed)  # test data, not secrets
    path.parent.mkdir(parents=True, exist_ok=True)
    if sparse:
        with path.open("wb") as out:
            out.truncate(size)
        zeros, left = bytes(PIECE), size
        while left:
            digest.update(zeros[: min(PIECE, left)])
            left -= min(PIECE, left)
        return digest.hexdigest()
    with path.open("wb") as out:
        left = size
        while left:
            piece = rng.randbytes(min(PIECE, left))
            digest.update(piece)
            out.write(piece)
            left -= len(piece)
    return digest.hexdigest()


async def seed(
    url: str,
    key: str,
    sim: Simulator,
    data_dir: Path,
    sizes: list[int],
    *,
    chunk: int = CHUNK,
    sparse: bool = False,
    due: bool = True,
) -> list[Video]:
    """An account, its YouTube connection and one draft per video with the file stored as the
    local media store keeps it; then (`due`) every target due now."""
    token = await sim.call("POST", "/_sim/tokens", {})
    channel = (await sim.call("GET", "/_sim/config"))["channel_id"]
    request = ConnectionInput(
        Platform.YOUTUBE,
        credentials={"accessToken": token["access_token"], "refreshToken": token["refresh_token"]},
        options={"apiUrl": sim.url, "chunkBytes": chunk},
    )
    videos: list[Video] = []
    async with session_for(url) as session:
        account = await create_account(session, "Kills", workspace=True)
        profile = Profile(channel, "heraldsim", "Herald Sim")
        await save_connection(session, SecretBox(key), account.id, request, profile)
        for number, size in enumerate(sizes):
            title = f"Kill test video {number}"
            new = NewPost(
                content=f"Video {number} of the kill benchmark",
                platform_ids=[f"youtube-{channel}"],
                status="draft",
                platform_settings={"youtube": {"title": title}},
            )
            group = await create_post(session, account.id, new, utc_now())
            storage_key = f"{group.id}/{secrets.token_hex(16)}/video-{number}.mp4"
            digest = write_video(data_dir / "media" / storage_key, size, number, sparse=sparse)
            session.add(
                Media(
                    post_group_id=group.id,
                    kind="video",
                    content_type="video/mp4",
                    file_name=f"video-{number}.mp4",
                    size=size,
                    storage_key=storage_key,
                    public_url=f"http://127.0.0.1:9/media/{storage_key}",
                    status="ready",
                )
            )
            videos.append(Video(title, storage_key, size, digest))
    if due:
        await make_due(url)
    return videos


async def make_due(url: str) -> None:
    """Every target scheduled and due now."""
    now = utc_now()
    async with session_for(url) as session:
        await session.execute(
            update(PublishTarget).values(
                state="scheduled", due_at=now, expire_at=now + EXPIRY_AFTER_DUE
            )
        )


async def kill_mid_uploads(
    children: Children,
    sim: Simulator,
    db_url: str,
    videos: int,
    kills: int,
    settings: dict[str, object],
) -> int:
    """Kill the worker whenever the upload under way is past half its file (each session at
    most MAX_KILLS_PER_VIDEO times), start another; the kills made."""
    killed: dict[str, int] = {}
    at_kill: dict[str, int] = {}  # bytes each session held when its last kill came
    made, number = 0, 0
    worker = start_worker(children, f"worker{number}", db_url, **settings)
    deadline = time.monotonic() + 600
    while made < kills and time.monotonic() < deadline:
        sessions = (await sim.call("GET", "/_sim/sessions"))["sessions"]
        if sum(1 for s in sessions if s["videoId"]) >= videos:
            break  # every upload finished: no kill point left
        target = next(
            (
                s
                for s in sessions
                if not s["videoId"]
                and s["total"]
                and s["received"] * 2 >= s["total"]
                and killed.get(s["id"], 0) < MAX_KILLS_PER_VIDEO
                and s["received"] > at_kill.get(s["id"], -1)  # moved on since: a new worker
            ),
            None,
        )
        if target is not None:
            worker.stop(grace=0)  # SIGKILL: no goodbye, no released claims
            killed[target["id"]] = killed.get(target["id"], 0) + 1
            at_kill[target["id"]] = target["received"]
            made += 1
            number += 1
            worker = start_worker(children, f"worker{number}", db_url, **settings)
        await asyncio.sleep(0.02)
    return made


async def run(options: argparse.Namespace) -> int:
    sizes = [int(options.megabytes * 1024 * 1024) + n * 4099 for n in range(options.videos)]
    with workspace() as workdir:
        key = new_secret_key()
        async with bench_database("postgres", workdir) as db:
            with Children(workdir, child_env(key)) as children:
                sim = Simulator(children, "youtube")
                await sim.ready()
                await sim.call("POST", "/_sim/config", {"latency_ms": options.latency_ms})
                videos = await seed(db.url, key, sim, db.data_dir, sizes)
                settings: dict[str, object] = {
                    "data_dir": db.data_dir,
                    "engine_concurrency": 1,
                    "engine_lease_seconds": 2.0,
                    "engine_rescue_interval_seconds": 0.2,
                    "engine_reconcile_interval_seconds": 0.2,
                    "engine_http_timeout_seconds": 5.0,
                }
                started = time.monotonic()
                kills = await kill_mid_uploads(
                    children, sim, db.url, len(videos), options.kills, settings
                )
                left = await wait_drain(db.url, within=options.timeout)
                elapsed = time.monotonic() - started
                stats = await sim.call("GET", "/_sim/stats")
                made = (await sim.call("GET", "/_sim/videos"))["videos"]
    return report(options, videos, made, stats, kills, left, elapsed)


def report(
    options: argparse.Namespace,
    videos: list[Video],
    made: list[dict[str, object]],
    stats: dict[str, int],
    kills: int,
    left: dict[str, int],
    elapsed: float,
) -> int:
    total = sum(v.size for v in videos)
    by_title: dict[object, list[dict[str, object]]] = {}
    for video in made:
        by_title.setdefault(video["title"], []).append(video)
    once = [v for v in videos if len(by_title.get(v.title, [])) == 1]
    intact = [v for v in once if by_title[v.title][0]["sha256"] == v.sha256]
    ratio = stats["bytes_arrived"] / total if total else 0.0
    print(f"videos {len(videos)} x ~{options.megabytes} MB, {kills} workers SIGKILLed mid-upload")
    print(f"videos on YouTube: {len(made)}; exactly once: {len(once)}; bytes intact: {len(intact)}")
    print(f"upload sessions opened: {stats['sessions']}; status queries: {stats['status_queries']}")
    print(
        f"bytes sent in all: {stats['bytes_arrived']:,} for {total:,} bytes of files "
        f"= {ratio:.3f} x the file sizes (limit 1.2)"
    )
    print(f"targets not finished: {left or 'none'}; took {elapsed:.1f} s")
    good = len(intact) == len(videos) == len(made) and ratio < 1.2 and not left
    good = good and kills >= options.kills
    print("PASS" if good else "FAIL")
    return 0 if good else 1


def main() -> None:
    raise_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--megabytes", type=float, default=4.0, help="size of each video")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="per chunk, at the sim")
    parser.add_argument("--timeout", type=float, default=300.0, help="to finish after the kills")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
