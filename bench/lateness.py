"""Burst lateness: N targets due at one instant; how late each starts, arrives and is published."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from _harness import (
    STARTED,
    BenchDb,
    Child,
    Children,
    CpuMeter,
    Simulator,
    TargetRow,
    attempt_outcomes,
    bench_database,
    child_env,
    create_groups,
    new_secret_key,
    percentile,
    raise_on_sigterm,
    read_targets,
    seed_tenant,
    set_due,
    source_digest,
    start_embedded,
    start_worker,
    wait_drain,
    wait_until_up,
    workspace,
)

from herald.domain.timestamps import utc_now

LEAD = timedelta(seconds=3)  # T0 = this long after the engines are up


@dataclass(frozen=True)
class Options:
    backend: str
    groups: int
    latency_ms: float
    concurrency: int
    workers: int
    timeout: float
    host_initial_limit: int | None  # HERALD_ENGINE_HOST_INITIAL_LIMIT; None: the default
    summary: Path | None  # where to write the figures as JSON (bench/floor_ratios.py reads it)


def parse_options() -> Options:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--groups", type=int, default=10_000, help="N post groups due at T0")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="simulated platform L")
    parser.add_argument("--concurrency", type=int, default=4096, help="C, across all processes")
    parser.add_argument("--workers", type=int, help="K worker processes (postgres; default 4)")
    parser.add_argument("--timeout", type=float, default=900.0, help="drain deadline, seconds")
    parser.add_argument(
        "--host-initial-limit",
        type=int,
        help="calls each process starts with against the simulator, as an operator who knows "
        "the platform's capacity would set it (default: the engine's own, which slow-starts)",
    )
    parser.add_argument("--summary", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    workers = 1 if args.backend == "sqlite" else (args.workers or 4)
    return Options(
        args.backend,
        args.groups,
        args.latency_ms,
        args.concurrency,
        workers,
        args.timeout,
        args.host_initial_limit,
        args.summary,
    )


async def start_engines(children: Children, db: BenchDb, options: Options) -> list[Child]:
    """One embedded `herald serve` (SQLite), or K `herald worker` processes sharing C."""
    settings: dict[str, object] = {
        "engine_concurrency": max(1, options.concurrency // options.workers)
    }
    if options.host_initial_limit is not None:
        settings["engine_host_initial_limit"] = options.host_initial_limit
    if db.backend == "sqlite":
        return [await start_embedded(children, db.data_dir, **settings)]
    workers = [
        start_worker(children, f"worker{n}", db.url, **settings) for n in range(options.workers)
    ]
    for worker in workers:
        await wait_until_up(worker, log_marker=STARTED)
    return workers


def receipt_lateness(rows: list[TargetRow], created: dict[str, list[datetime]]) -> list[float]:
    """Simulator createdAt - scheduled time, for each published target's first post (part 0)."""
    found = []
    for row in rows:
        posts = created.get(f"{row.id}:0")
        if row.state == "published" and posts and row.scheduled_at is not None:
            found.append((min(posts) - row.scheduled_at).total_seconds())
    return found


def spread(values: list[float]) -> str:
    p50, p99, top = percentile(values, 50), percentile(values, 99), max(values, default=0.0)
    return f"p50 {p50:.3f} s, p99 {p99:.3f} s, max {top:.3f} s (n={len(values)})"


def seconds_after(moments: list[datetime | None], t0: datetime) -> list[float]:
    return [(m - t0).total_seconds() for m in moments if m is not None]


def report(
    options: Options, rows: list[TargetRow], created: dict[str, list[datetime]]
) -> dict[str, float]:
    """Print the lateness figures; return them for the summary (empty if nothing published)."""
    # Lateness counts from the time the user asked for (T0), not from `due_at`, which a retry
    # moves: a target that failed to connect and was sent 40 s later is 40 s late.
    t0 = min((r.scheduled_at for r in rows if r.scheduled_at), default=None)
    published = [r for r in rows if r.state == "published"]
    if t0 is None or not published:
        print("nothing was published")
        return {}
    start = seconds_after([r.sent_at for r in published], t0)
    publish = seconds_after([r.published_at for r in published], t0)
    receipt = receipt_lateness(rows, created)
    print(f"start lateness (sent_at - T0):             {spread(start)}")
    print(f"platform receipt lateness (createdAt - T0): {spread(receipt)}")
    print("  (createdAt includes L: the simulator waits L, then creates the post)")
    print(f"publish lateness (published_at - T0):      {spread(publish)}")
    drain = max(seconds_after([r.published_at or r.updated_at for r in rows], t0))
    throughput = len(published) / max(publish) if max(publish) > 0 else float("nan")
    ideal = options.concurrency / (options.latency_ms / 1000)
    print(f"drain time (T0 to last terminal target): {drain:.2f} s")
    print(
        f"throughput: {throughput:,.0f} targets/s (T0 to last published_at); "
        f"C/L = {ideal:,.0f}/s; fraction {throughput / ideal:.4f}"
    )
    return {
        "start_p50_s": percentile(start, 50),
        "start_p99_s": percentile(start, 99),
        "receipt_p99_s": percentile(receipt, 99),
        "throughput_per_s": throughput,
    }


def engine_cpu(used: dict[str, float]) -> float:
    """CPU seconds of the Herald processes (`serve[pid]`, `worker<n>[pid]`)."""
    return sum(v for name, v in used.items() if name.startswith(("serve[", "worker")))


async def run(options: Options, workdir: Path) -> None:
    secret = new_secret_key()
    async with bench_database(options.backend, workdir) as db:
        with Children(workdir, child_env(secret, log_level="info")) as children:
            sim = Simulator(children)
            await sim.ready()
            config = {"latency_ms": options.latency_ms, "latency_jitter_ms": 0}
            await sim.call("POST", "/_sim/config", config)
            tenant = await seed_tenant(db.url, secret, sim.url)
            started = time.perf_counter()
            await create_groups(db.url, tenant, options.groups)
            took = time.perf_counter() - started
            print(
                f"insertion: {options.groups} groups in {took:.1f} s "
                f"({options.groups / took:,.0f}/s; create_post, 500 per transaction)"
            )
            await start_engines(children, db, options)
            t0 = utc_now() + LEAD
            await set_due(db.url, t0)
            meter = CpuMeter(children)
            await asyncio.sleep(max(0.0, (t0 - utc_now()).total_seconds()))
            meter.start()
            left = await wait_drain(db.url, options.timeout)
            rows = await read_targets(db.url)
            used = meter.seconds()
            cpu = meter.report(per=sum(r.state == "published" for r in rows))
            attempts = await attempt_outcomes(db.url, with_errors=True)
            created = await sim.created_at_by_ref()
            stats = await sim.call("GET", "/_sim/stats")
    figures = report(options, rows, created)
    print(f"final states: {dict(Counter(r.state for r in rows))}")
    print(f"attempts (publish_attempt by outcome / error): {attempts}")
    if left:
        print(f"NOT terminal after {options.timeout:.0f} s: {left}")
    print(f"simulator: posts {stats['posts']}, duplicates {stats['duplicates']}")
    print("\n".join(cpu))
    if options.summary is not None:
        published = sum(r.state == "published" for r in rows)
        summary = {
            **figures,
            "published": published,
            "targets": len(rows),
            "duplicates": stats["duplicates"],
            "engine_cpu_ms_per_post": 1000 * engine_cpu(used) / max(published, 1),
            "postgres_cpu_ms_per_post": 1000 * used.get("postgres (all)", 0.0) / max(published, 1),
        }
        options.summary.write_text(json.dumps(summary))


def main() -> None:
    raise_on_sigterm()
    options = parse_options()
    per = options.concurrency // options.workers
    print(
        f"backend {options.backend}; N {options.groups}; L {options.latency_ms:.0f} ms; "
        f"C {options.concurrency} ({options.workers} x {per}); K {options.workers}; "
        f"host initial limit {options.host_initial_limit or 'default'}; "
        f"CPUs {os.cpu_count()}; herald sources {source_digest()}"
    )
    with workspace() as workdir:
        asyncio.run(run(options, workdir))


if __name__ == "__main__":
    main()
