"""Engine memory: resident set of the engine process with few and with many targets not yet due."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _harness import (
    STARTED,
    BenchDb,
    Child,
    Children,
    Tenant,
    bench_database,
    child_env,
    cpu_seconds,
    new_secret_key,
    raise_on_sigterm,
    seed_tenant,
    source_digest,
    start_embedded,
    start_worker,
    wait_until_up,
    workspace,
)
from sqlalchemy import insert

from herald.db.engine import create_engine, create_session_factory, unit_of_work
from herald.domain.ids import new_id
from herald.domain.publishing import publish_key
from herald.domain.timestamps import utc_now
from herald.models import PostGroup, PublishTarget
from herald.services.post import EXPIRY_AFTER_DUE

CHUNK = 10_000  # rows per executemany (SQLAlchemy sends multi-row INSERTs) and per transaction
DUE_IN = timedelta(days=1)
# Nothing is due, but connections need a base URL; this one is never called.
UNUSED_SIM = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Options:
    backend: str
    small: int
    large: int
    seconds: float


@dataclass(frozen=True)
class Sample:
    at: float
    rss_kib: int


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def parse_options() -> Options:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=16.0, help="engine run per size")
    a = parser.parse_args()
    return Options(a.backend, a.small, a.large, a.seconds)


def rows_for(tenant: Tenant, count: int, due: datetime) -> tuple[list[Any], list[Any]]:
    """`count` groups with one scheduled target each, every NOT NULL column as the API sets it."""
    now = utc_now()
    groups: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    for _ in range(count):
        group_id, target_id = new_id(), new_id()
        text = f"Scheduled post {group_id}: hello from Herald"
        groups.append(
            {
                "id": group_id,
                "account_id": tenant.account_id,
                "content": text,
                "platform_settings": {},
                "alt_texts": [],
                "status": "scheduled",
                "scheduled_at": due,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        targets.append(
            {
                "id": target_id,
                "post_group_id": group_id,
                "connection_id": tenant.connections[0].id,
                "platform": "sandbox",
                "external_account_id": tenant.connections[0].external_id,
                "position": 0,
                "state": "scheduled",
                "thread_parts": [text],
                "due_at": due,
                "expire_at": due + EXPIRY_AFTER_DUE,
                "version": 1,
                "claim_token": 0,
                "attempt": 0,
                "rate_limited": 0,
                "idempotency_key": publish_key(target_id, 1),
                "progress": {},
                "updated_at": now,
            }
        )
    return groups, targets


async def bulk_insert(db: BenchDb, tenant: Tenant, count: int) -> None:
    engine = create_engine(db.url)
    sessions = create_session_factory(engine)
    due = utc_now() + DUE_IN
    try:
        for start in range(0, count, CHUNK):
            groups, targets = rows_for(tenant, min(CHUNK, count - start), due)
            async with unit_of_work(sessions) as session:
                await session.execute(insert(PostGroup), groups)
                await session.execute(insert(PublishTarget), targets)
    finally:
        await engine.dispose()


async def start_engine(children: Children, db: BenchDb, label: str) -> Child:
    """The process that runs the engine: `herald serve` (SQLite) or `herald worker` (PG)."""
    if db.backend == "sqlite":
        return await start_embedded(children, db.data_dir)
    child = start_worker(children, f"worker-{label}", db.url)
    await wait_until_up(child, log_marker=STARTED)
    return child


async def measure(children: Children, db: BenchDb, label: str, seconds: float) -> list[Sample]:
    """Start the engine, sample its VmRSS once a second for `seconds`, stop it."""
    child = await start_engine(children, db, label)
    samples, started, cpu = [], time.monotonic(), cpu_seconds(child.pid)
    while (elapsed := time.monotonic() - started) < seconds:
        await asyncio.sleep(1.0)
        samples.append(Sample(elapsed + 1.0, vm_rss_kib(child.pid)))
    used = cpu_seconds(child.pid) - cpu
    child.stop()
    print(
        f"{label}: VmRSS every 1 s (MiB): {' '.join(f'{s.rss_kib / 1024:.0f}' for s in samples)}; "
        f"engine CPU {100 * used / seconds:.1f} % of a core"
    )
    return samples


async def run(options: Options) -> None:
    secret = new_secret_key()
    with workspace() as workdir:
        async with bench_database(options.backend, workdir) as db:
            with Children(workdir, child_env(secret, log_level="info")) as children:
                tenant = await seed_tenant(db.url, secret, UNUSED_SIM)
                await bulk_insert(db, tenant, options.small)
                small = await measure(children, db, f"{options.small:,} targets", options.seconds)
                more, started = options.large - options.small, time.perf_counter()
                await bulk_insert(db, tenant, more)
                took = time.perf_counter() - started
                print(
                    f"insertion of {more:,} more groups + targets: {took:.1f} s "
                    f"({more / took:,.0f} groups/s; {CHUNK:,} rows per executemany and transaction)"
                )
                large = await measure(children, db, f"{options.large:,} targets", options.seconds)
    rss_small = max(s.rss_kib for s in small) / 1024
    rss_large = max(s.rss_kib for s in large) / 1024
    print(f"RSS small ({options.small:,}): {rss_small:.1f} MiB (max of samples)")
    print(f"RSS large ({options.large:,}): {rss_large:.1f} MiB (max of samples)")
    print(f"ratio large/small: {rss_large / rss_small:.2f}")


def main() -> None:
    raise_on_sigterm()
    options = parse_options()
    engine = "herald serve (SQLite)" if options.backend == "sqlite" else "herald worker"
    print(
        f"memory: backend {options.backend}; engine process {engine}; small {options.small:,}; "
        f"large {options.large:,}; due in {DUE_IN}; CPUs {os.cpu_count()}; "
        f"herald sources {source_digest()}"
    )
    asyncio.run(run(options))


if __name__ == "__main__":
    main()
