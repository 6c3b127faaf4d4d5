"""YouTube upload memory: the worker's RSS while a 1 GB video uploads, against its RSS at rest.

Usage: python bench/youtube_rss.py [--megabytes 1024]
One `herald sim youtube` and one `herald worker` on a throwaway PostgreSQL database; the video
is a sparse file (a hole of zeros: no disk, no time to write), uploaded in Herald's default
8 MiB chunks. RSS is sampled every 20 ms from /proc. Exit status 1 if the peak during the
upload is 50 MB or more above the RSS at rest, or the video did not arrive whole."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path

from _harness import (
    STARTED,
    Children,
    Simulator,
    bench_database,
    child_env,
    new_secret_key,
    raise_on_sigterm,
    start_worker,
    wait_drain,
    wait_until_up,
    workspace,
)
from youtube_kills import make_due, seed

DEFAULT_CHUNK = 8 * 1024 * 1024  # the connector's default
LIMIT_MB = 50.0


def rss_mb(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


async def run(options: argparse.Namespace) -> int:
    size = int(options.megabytes * 1024 * 1024)
    with workspace() as workdir:
        key = new_secret_key()
        async with bench_database("postgres", workdir) as db:
            with Children(workdir, child_env(key)) as children:
                sim = Simulator(children, "youtube")
                await sim.ready()
                [video] = await seed(
                    db.url,
                    key,
                    sim,
                    db.data_dir,
                    [size],
                    chunk=DEFAULT_CHUNK,
                    sparse=True,
                    due=False,
                )
                worker = start_worker(
                    children,
                    "worker",
                    db.url,
                    data_dir=db.data_dir,
                    engine_http_timeout_seconds=60.0,
                    media_max_upload_bytes=4 * size,  # past the default 512 MB cap
                )
                await wait_until_up(worker, log_marker=STARTED)
                await asyncio.sleep(2)  # settled: the engine's loops have run
                rest = max(rss_mb(worker.pid) for _ in range(5))
                await make_due(db.url)
                peak, started = rest, time.monotonic()
                while await wait_drain(db.url, within=0):
                    peak = max(peak, rss_mb(worker.pid))
                    await asyncio.sleep(0.02)
                    if time.monotonic() - started > options.timeout:
                        break
                elapsed = time.monotonic() - started
                made = (await sim.call("GET", "/_sim/videos"))["videos"]
    arrived = [v for v in made if v["size"] == size and v["sha256"] == video.sha256]
    print(f"video {size:,} bytes, uploaded in {elapsed:.1f} s ({size / elapsed / 1e6:.0f} MB/s)")
    print(
        f"worker RSS at rest {rest:.1f} MB; peak during the upload {peak:.1f} MB; "
        f"difference {peak - rest:.1f} MB (limit {LIMIT_MB:.0f} MB)"
    )
    print(f"videos on YouTube: {len(made)}; whole and intact: {len(arrived)}")
    good = peak - rest < LIMIT_MB and len(arrived) == 1 == len(made)
    print("PASS" if good else "FAIL")
    return 0 if good else 1


def main() -> None:
    raise_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1024.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
