"""Reads at scale: list-posts filters, sorts and pages, get-post, the calendar range and the
engine's claim query, with one account holding a long history (1,000,000 groups by default)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _bulk_posts import BASE_REVISION, Shape, insert_history, migrate_to
from _harness import (
    PG_URL,
    Children,
    _admin,
    child_env,
    free_port,
    herald_env,
    new_secret_key,
    percentile,
    raise_on_sigterm,
    seed_tenant,
    session_for,
    source_digest,
    wait_until_up,
    workspace,
)
from sqlalchemy import func, select

from herald.db.engine import create_engine, create_session_factory, unit_of_work
from herald.domain.timestamps import format_timestamp
from herald.models import PostGroup
from herald.services.account import issue_api_key
from herald.store.publish_queue import PublishQueueStore

UNUSED_SIM = "http://127.0.0.1:9"  # connections need a base URL; nothing is published


@dataclass(frozen=True)
class Options:
    backend: str
    groups: int
    repeat: int
    keep: Path | None
    herald_src: Path | None
    upgrade: bool
    only: str


@dataclass
class Dataset:
    """What a kept database needs to be used again: written beside it as bench.json."""

    backend: str
    url: str
    data_dir: str
    account_id: str
    api_key: str
    secret_key: str
    now: str  # the builder's clock: every relative date is taken from it
    groups: int


def parse_options() -> Options:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--groups", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30, help="runs of each query")
    parser.add_argument(
        "--keep", type=Path, help="build into DIR once and reuse it on later runs (not dropped)"
    )
    parser.add_argument(
        "--herald-src",
        type=Path,
        help="the server runs this source tree (e.g. an export of main's src) instead of ours",
    )
    parser.add_argument(
        "--no-upgrade",
        action="store_true",
        help=f"leave the schema at the builder's revision {BASE_REVISION} (for older code)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="run only queries whose label contains one of these (comma-separated)",
    )
    a = parser.parse_args()
    return Options(a.backend, a.groups, a.repeat, a.keep, a.herald_src, not a.no_upgrade, a.only)


# --- the queries -----------------------------------------------------------------------------


def list_queries(now: datetime) -> list[tuple[str, dict[str, str]]]:
    """Each documented parameter against the default, and the combinations that cost most.
    `page` "mid" and "last" are resolved against the query's totalItems."""
    iso = format_timestamp
    month_ago, in_month = iso(now - timedelta(days=30)), iso(now + timedelta(days=30))
    year_ago = iso(now - timedelta(days=365))
    sorts = [
        (f"sortBy={field}&sortOrder={order}", {"sortBy": field, "sortOrder": order})
        for field in ("createdAt", "updatedAt", "scheduledTime")
        for order in ("desc", "asc")
    ]
    statuses = [
        (f"status={s}", {"status": s})
        for s in ("published", "scheduled", "draft", "failed", "partially_published")
    ]
    platforms = [(f"platform={p}", {"platform": p}) for p in ("sandbox", "bluesky", "telegram")]
    return [
        ("no filter", {}),
        ("limit=100", {"limit": "100"}),
        *sorts,
        *statuses,
        ("status=scheduled&sortBy=scheduledTime&sortOrder=asc",
         {"status": "scheduled", "sortBy": "scheduledTime", "sortOrder": "asc"}),
        *platforms,
        ("platform=telegram&status=failed", {"platform": "telegram", "status": "failed"}),
        ("platform=sandbox&status=scheduled&sortBy=scheduledTime",
         {"platform": "sandbox", "status": "scheduled", "sortBy": "scheduledTime"}),
        ("sortBy=scheduledTime&sortOrder=asc&fromDate=now&limit=50",
         {"sortBy": "scheduledTime", "sortOrder": "asc", "fromDate": iso(now), "limit": "50"}),
        ("fromDate&toDate (60 days)&sortBy=scheduledTime&sortOrder=asc&limit=100",
         {"fromDate": month_ago, "toDate": in_month, "sortBy": "scheduledTime",
          "sortOrder": "asc", "limit": "100"}),
        ("toDate=year ago", {"toDate": year_ago}),
        ("fromDate=year ago&status=published", {"fromDate": year_ago, "status": "published"}),
        ("fromDate=year ago&platform=bluesky", {"fromDate": year_ago, "platform": "bluesky"}),
        ("page=500&limit=100", {"page": "500", "limit": "100"}),
        ("page=mid&limit=100", {"page": "mid", "limit": "100"}),
        ("page=last&limit=100", {"page": "last", "limit": "100"}),
        ("page=past the end", {"page": "1000000000"}),
        ("status=published&page=mid&limit=100",
         {"status": "published", "page": "mid", "limit": "100"}),
        ("platform=sandbox&page=9000&limit=100",
         {"platform": "sandbox", "page": "9000", "limit": "100"}),
        ("platform=telegram&page=mid&limit=100",
         {"platform": "telegram", "page": "mid", "limit": "100"}),
        ("sortBy=updatedAt&sortOrder=asc&page=mid&limit=100",
         {"sortBy": "updatedAt", "sortOrder": "asc", "page": "mid", "limit": "100"}),
        ("sortBy=scheduledTime&sortOrder=asc&page=mid&limit=100",
         {"sortBy": "scheduledTime", "sortOrder": "asc", "page": "mid", "limit": "100"}),
        ("fromDate&toDate (60 days)&sortBy=scheduledTime&page=mid&limit=100",
         {"fromDate": month_ago, "toDate": in_month, "sortBy": "scheduledTime",
          "page": "mid", "limit": "100"}),
        ("toDate=year ago&page=mid&limit=100",
         {"toDate": year_ago, "page": "mid", "limit": "100"}),
    ]  # fmt: skip


@dataclass
class Figures:
    label: str
    times_ms: list[float]
    note: str = ""

    def line(self) -> str:
        p50, p99 = percentile(self.times_ms, 50), percentile(self.times_ms, 99)
        return (
            f"| {self.label} | {p50:.1f} | {p99:.1f} | {max(self.times_ms):.1f} | "
            f"{len(self.times_ms)} | {self.note} |"
        )


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append(1000 * (time.perf_counter() - started))
    return times


async def list_figures(
    client: httpx.AsyncClient, label: str, params: dict[str, str], repeat: int
) -> Figures:
    params = dict(params)
    if params.get("page") in ("mid", "last"):
        probe = {k: v for k, v in params.items() if k != "page"}
        pages = (await _list(client, probe))["pagination"]["totalPages"]
        params["page"] = str(max(1, pages // 2 if params["page"] == "mid" else pages))
    first = await _list(client, params)  # also the warm-up
    totals: set[int] = set()

    async def call() -> None:
        totals.add((await _list(client, params))["pagination"]["totalItems"])

    times = await timed(call, repeat)
    if totals != {first["pagination"]["totalItems"]}:
        raise AssertionError(f"{label}: totalItems changed between runs: {totals}")
    note = f"totalItems {first['pagination']['totalItems']:,}; page {params.get('page', '1')}"
    return Figures(label, times, note)


async def _list(client: httpx.AsyncClient, params: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/list-posts", params=params)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


async def get_post_figures(client: httpx.AsyncClient, ids: list[str], repeat: int) -> Figures:
    chosen = iter(random.Random(7).choices(ids, k=repeat + 1))

    async def call() -> None:
        (await client.get(f"/get-post/{next(chosen)}")).raise_for_status()

    await call()
    return Figures("get-post (random group)", await timed(call, repeat))


async def health_figures(client: httpx.AsyncClient, port: str, repeat: int) -> Figures:
    """The server's cost of any request, with no database: the floor under every HTTP row."""
    url = f"http://127.0.0.1:{port}/healthz"

    async def call() -> None:
        (await client.get(url)).raise_for_status()

    await call()
    return Figures("floor: GET /healthz (HTTP, no database)", await timed(call, repeat))


async def in_process_figures(data: Dataset, repeat: int, upgraded: bool) -> list[Figures]:
    """The claim query and the calendar, straight through the store and the service."""
    engine = create_engine(data.url)
    sessions = create_session_factory(engine)
    now = datetime.now(UTC)
    figures = []
    try:

        async def claim() -> None:
            # Rolled back: nothing is due, but a claim is a write and this must change nothing.
            async with sessions() as session:
                await PublishQueueStore(session).claim("bench", now, 100, timedelta(seconds=60))
                await session.rollback()

        await claim()
        figures.append(Figures("engine claim (batch 100, nothing due)", await timed(claim, repeat)))

        async def count_all() -> None:
            # The floor of an exact total over every group: the database's own count.
            async with unit_of_work(sessions, write=False) as session:
                query = select(func.count()).where(PostGroup.account_id == data.account_id)
                await session.scalar(query)

        await count_all()
        label = "floor: SELECT count(*) of the account's groups (driver, no HTTP)"
        figures.append(Figures(label, await timed(count_all, repeat)))
        if upgraded:
            figures.extend(await kept_floors(sessions, data, repeat))
            figures.extend(await calendar_figures(sessions, data, repeat))
    finally:
        await engine.dispose()
    return figures


async def kept_floors(sessions: Any, data: Dataset, repeat: int) -> list[Figures]:
    """What list-posts cannot go below once its total is a tally: the tally's sum, and the
    page's ids read from the covering index, each alone through the driver."""
    from herald.store.post_list import ListFilter, PostListReader
    from herald.store.post_tally import sum_query

    async def tally() -> None:
        async with unit_of_work(sessions, write=False) as session:
            await session.scalar(sum_query(data.account_id, None, None, None))

    async def page_ids() -> None:
        async with unit_of_work(sessions, write=False) as session:
            where = ListFilter(data.account_id).conditions() or []
            query = (
                select(PostGroup.id)
                .where(*where)
                .order_by(PostGroup.created_at.desc(), PostGroup.id.desc())
                .limit(20)
            )
            await PostListReader(session).groups(list((await session.scalars(query)).all()))

    out = []
    for label, call in (
        ("floor: sum of the account's tallies (driver, no HTTP)", tally),
        ("floor: first page of 20 ids from the index and their groups (driver, no HTTP)", page_ids),
    ):
        await call()
        out.append(Figures(label, await timed(call, repeat)))
    return out


async def calendar_figures(sessions: Any, data: Dataset, repeat: int) -> list[Figures]:
    from herald.services.post_list import calendar_range

    built = datetime.fromisoformat(data.now)
    out = []
    for label, start, days in (
        ("calendar: next week", built, 7),
        ("calendar: a month a year ago", built - timedelta(days=365), 30),
    ):
        end = start + timedelta(days=days)
        found: list[int] = []

        async def call(
            start: datetime = start, end: datetime = end, found: list[int] = found
        ) -> None:
            async with unit_of_work(sessions, write=False) as session:
                page = await calendar_range(session, data.account_id, start, end)
                found.append(len(page.posts))

        await call()
        times = await timed(call, repeat)
        out.append(Figures(f"{label} (service)", times, f"{found[0]} posts (first page)"))
    return out


# --- the data ------------------------------------------------------------------------------


async def build(options: Options, workdir: Path) -> Dataset:
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if options.backend == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'herald.db'}"
    else:
        name = f"herald_bench_{secrets.token_hex(4)}"
        await _admin(f'CREATE DATABASE "{name}"')
        url = PG_URL.format(name=name)
    await migrate_to(url, BASE_REVISION)
    secret = new_secret_key()
    tenant = await seed_tenant(url, secret, UNUSED_SIM)
    async with session_for(url) as session:
        key, _ = await issue_api_key(session, tenant.account_id)
    now = datetime.now(UTC).replace(microsecond=0)
    shape = Shape(tenant.account_id, tenant.connections[0].id, now)
    took = await insert_history(url, shape, options.groups)
    print(f"built {options.groups:,} groups in {took:.1f} s ({options.groups / took:,.0f}/s)")
    data = Dataset(
        options.backend, url, str(data_dir), tenant.account_id, key, secret, now.isoformat(),
        options.groups,
    )  # fmt: skip
    (workdir / "bench.json").write_text(json.dumps(asdict(data)))
    return data


async def dataset(options: Options, workdir: Path) -> Dataset:
    saved = workdir / "bench.json"
    if saved.exists():
        data = Dataset(**json.loads(saved.read_text()))
        print(f"reusing {data.groups:,} groups ({data.backend}) from {workdir}")
        return data
    return await build(options, workdir)


async def group_ids(url: str, sample: int) -> list[str]:
    async with session_for(url, write=False) as session:
        query = select(PostGroup.id).order_by(func.random()).limit(sample)
        return list((await session.scalars(query)).all())


# --- the run -------------------------------------------------------------------------------


async def measure(options: Options, data: Dataset, workdir: Path) -> list[Figures]:
    settings = {"rate_limit_per_minute": 0}
    if data.backend == "postgres":
        settings["database_url"] = data.url  # type: ignore[assignment]
    env = child_env(data.secret_key, **settings)
    if options.herald_src is not None:
        env["PYTHONPATH"] = str(options.herald_src.resolve())
    ids = await group_ids(data.url, 1000)
    with Children(workdir, env) as children:
        port = str(free_port())
        args = ("--data-dir", data.data_dir, "serve", "--no-engine", "--port", port)
        child = children.start("serve", *args, env=herald_env())
        await wait_until_up(child, url=f"http://127.0.0.1:{port}/healthz")
        base = f"http://127.0.0.1:{port}/api/v1"
        headers = {"x-publora-key": data.api_key}
        figures = []
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
            for label, params in list_queries(datetime.fromisoformat(data.now)):
                if any(part in label for part in options.only.split(",")):
                    figures.append(await list_figures(client, label, params, options.repeat))
                    print(figures[-1].line(), flush=True)
            figures.append(await get_post_figures(client, ids, options.repeat))
            print(figures[-1].line(), flush=True)
            figures.append(await health_figures(client, port, options.repeat))
            print(figures[-1].line(), flush=True)
    # The in-process rows stand in for a server's: freeze this process's heap as `herald serve`
    # freezes its own, or a full collection of it lands in some rows' p99.
    gc.collect()
    gc.freeze()
    for figure in await in_process_figures(data, options.repeat, options.upgrade):
        print(figure.line(), flush=True)
        figures.append(figure)
    return figures


async def run(options: Options) -> None:
    if options.keep is not None:
        options.keep.mkdir(parents=True, exist_ok=True)
        data = await dataset(options, options.keep)
        await session_and_measure(options, data, options.keep)
        print(f"database kept in {options.keep} (delete it, and for PostgreSQL drop it, when done)")
        return
    with workspace() as workdir:
        data = await build(options, workdir)
        try:
            await session_and_measure(options, data, workdir)
        finally:
            if data.backend == "postgres":
                name = data.url.rsplit("/", 1)[1]
                await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def session_and_measure(options: Options, data: Dataset, workdir: Path) -> None:
    if options.upgrade:
        took = await migrate_to(data.url, "head")
        print(f"migrations to head on {data.groups:,} groups: {took:.1f} s")
    print("| query | p50 ms | p99 ms | max ms | runs | notes |")
    print("|---|---|---|---|---|---|")
    await measure(options, data, workdir)


def main() -> None:
    raise_on_sigterm()
    options = parse_options()
    server = options.herald_src or "this tree"
    print(
        f"list_reads: backend {options.backend}; {options.groups:,} groups; "
        f"{options.repeat} runs per query; server code {server}; CPUs {os.cpu_count()}; "
        f"herald sources {source_digest()}"
    )
    asyncio.run(run(options))


if __name__ == "__main__":
    main()
