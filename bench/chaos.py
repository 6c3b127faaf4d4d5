"""Chaos: platform faults plus SIGKILLed workers on PostgreSQL; count duplicates and lost posts.

With `--platform x` the X connector publishes to the X simulator: X takes no idempotency key, so
every in-doubt tweet is settled by looking it up in the account's timeline, and the report counts
how many lookups settled one. With `--platform linkedin` the LinkedIn connector publishes to the
LinkedIn simulator: an in-doubt post is sent again, and LinkedIn's 422 DUPLICATE_POST naming the
first post's URN settles it; the report counts those re-sends. With `--platform instagram` the
Instagram connector publishes one-image posts to the Meta simulator, which fetches each file from
Herald (bench/_chaos_meta.py): an in-doubt media_publish is settled by reading the account's
recent media."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from _chaos_meta import (
    WORKER_SETTINGS,
    create_image_groups,
    instagram_posts,
    seed_instagram,
    serve_files,
)
from _harness import (
    STARTED,
    TERMINAL,
    BenchDb,
    Children,
    CpuMeter,
    Simulator,
    TargetRow,
    Tenant,
    attempt_outcomes,
    bench_database,
    child_env,
    create_groups,
    groups_behind,
    mastodon_accounts,
    new_secret_key,
    raise_on_sigterm,
    read_targets,
    seed_mastodon_tenant,
    seed_tenant,
    session_for,
    set_due,
    source_digest,
    start_worker,
    wait_drain,
    wait_until_up,
    workspace,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.db.engine import create_engine, create_session_factory, unit_of_work
from herald.domain.platform import Platform
from herald.domain.timestamps import parse_timestamp, utc_now
from herald.engine.batching import LEFT_OVER_AFTER
from herald.models import PublishTarget
from herald.platforms.base import Profile
from herald.services.account import create_account
from herald.services.connection import save_connection
from herald.services.connection_inputs import ConnectionInput
from herald.services.secret_box import SecretBox

FAULTS = {
    "rate_limit": 0.02,
    "unavailable": 0.03,
    "error_after_create": 0.02,
    "lost_response": 0.02,
    "timeout": 0.01,
    "rejected": 0.005,
}
# Quick recovery, so rescue and reconciliation happen many times within one run.
ENGINE = {
    "engine_lease_seconds": 5,
    "engine_rescue_interval_seconds": 1,
    "engine_reconcile_interval_seconds": 1,
    "engine_settle_seconds": 1,
    "engine_http_timeout_seconds": 1.5,
}


@dataclass(frozen=True)
class Options:
    targets: int
    workers: int
    kills: int
    kill_every: float
    unsafe_retry: bool
    seed: int
    concurrency: int
    connections: int
    latency_ms: float
    drain_timeout: float
    platform: str
    doubt_faults: bool  # False: only faults whose outcome is known (--no-doubt-faults)


@dataclass
class Kill:
    at: float  # seconds after T0
    pid: int
    in_flight: int  # rows the killed worker held (claimed or sent) when it died
    open_targets: int  # targets not yet terminal at that moment


@dataclass
class Run:
    kills: list[Kill] = field(default_factory=list)
    replacements_started: int = 0


def parse_options() -> Options:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between kills")
    parser.add_argument("--unsafe-retry", action="store_true", help="the negative control")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=200, help="per worker")
    parser.add_argument("--connections", type=int, default=100, help="sandbox connections")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="after the last kill")
    parser.add_argument(
        "--platform",
        choices=("sandbox", "mastodon", "x", "linkedin", "instagram"),
        default="sandbox",
        help="publish through this connector to its simulator (mastodon: Idempotency-Key "
        "and timeline lookup; x: no key, timeline lookup only; linkedin: re-sends settled by "
        "DUPLICATE_POST; instagram: one-image posts, recent-media lookup; one simulated "
        "account per connection)",
    )
    parser.add_argument(
        "--no-doubt-faults",
        action="store_true",
        help="inject only the faults whose outcome is known (rate limits, 503s, rejections): "
        "what is left in doubt is the kills' and the engine's own",
    )
    a = parser.parse_args()
    return Options(
        a.targets,
        a.workers,
        a.kills,
        a.kill_every,
        a.unsafe_retry,
        a.seed,
        a.concurrency,
        a.connections,
        a.latency_ms,
        a.drain_timeout,
        a.platform,
        not a.no_doubt_faults,
    )


def faults_for(options: Options) -> dict[str, float]:
    if options.doubt_faults:
        return FAULTS
    return {name: rate for name, rate in FAULTS.items() if name not in DOUBT_BY_DESIGN}


def engine_settings(options: Options) -> dict[str, object]:
    return {
        **ENGINE,
        "engine_concurrency": options.concurrency,
        "engine_unsafe_blind_retry": options.unsafe_retry,
        **(WORKER_SETTINGS if options.platform == "instagram" else {}),
    }


async def open_count(session: AsyncSession) -> int:
    query = select(func.count()).where(PublishTarget.state.not_in(TERMINAL))
    return int(await session.scalar(query) or 0)


async def held_by(session: AsyncSession, pid: int) -> int:
    """Rows a worker holds: its id is host:pid:random, and it is the lease owner of its claims."""
    query = select(func.count()).where(
        PublishTarget.lease_owner.like(f"%:{pid}:%"),
        PublishTarget.state.in_(("publishing", "reconciling")),
    )
    return int(await session.scalar(query) or 0)


async def chaos_loop(
    options: Options,
    children: Children,
    db: BenchDb,
    sessions: async_sessionmaker[AsyncSession],
    t0: float,
) -> Run:
    """Every kill_every seconds SIGKILL a random live worker and start a replacement, while
    targets are still open; stops early (and says so) if the drain finishes first."""
    rng = random.Random(options.seed)
    workers = [c for c in children.started if c.name.startswith("worker")]
    run = Run()
    settings = engine_settings(options)
    while len(run.kills) < options.kills:
        await asyncio.sleep(options.kill_every)
        async with unit_of_work(sessions, write=False) as session:
            still_open = await open_count(session)
            if still_open == 0:
                break
            live = [w for w in workers if w.alive()]
            if not live:  # replacements that could not start: the logs say why
                print(
                    f"no live worker to kill; exit codes {[w.process.returncode for w in workers]}"
                )
                break
            # Prefer workers that are up: killing one still importing tests nothing.
            up = [w for w in live if STARTED in w.log.read_text(errors="replace")]
            victim = rng.choice(up or live)
            in_flight = await held_by(session, victim.pid)
        victim.stop(grace=0)  # SIGKILL
        run.kills.append(Kill(time.monotonic() - t0, victim.pid, in_flight, still_open))
        workers.remove(victim)
        name = f"worker{len(children.started)}"
        workers.append(start_worker(children, name, db.url, **settings))
        run.replacements_started += 1
    return run


async def wait_groups_caught_up(url: str) -> tuple[int, int, float]:
    """Stale group statuses when the drain ends, and after the workers' maintenance has had
    time to refresh what killed workers left (store.group_status_due), with how long that
    took."""
    first = latest = await groups_behind(url)
    began = time.monotonic()
    deadline = began + LEFT_OVER_AFTER.total_seconds() + 15
    while latest and time.monotonic() < deadline:
        await asyncio.sleep(1)
        latest = await groups_behind(url)
    return first, latest, time.monotonic() - began


def duplicates(created: dict[str, list[datetime]]) -> tuple[int, int]:
    """(refs with more than one post, posts beyond the first per ref)."""
    extra = [len(posts) - 1 for posts in created.values() if len(posts) > 1]
    return len(extra), sum(extra)


def ground_truth(rows: list[TargetRow], created: dict[str, list[datetime]]) -> list[str]:
    posted = {ref.split(":", 1)[0] for ref in created}
    published = {r.id for r in rows if r.state == "published"}
    return [
        f"published in Herald but no post on the platform: {len(published - posted)}",
        f"on the platform but not published in Herald: {len(posted - published)} "
        f"(states: {dict(Counter(r.state for r in rows if r.id in posted - published))})",
    ]


def report(options: Options, run: Run, rows: list[TargetRow], left: dict[str, int]) -> None:
    in_flight = [k for k in run.kills if k.in_flight > 0]
    print(
        f"kills done: {len(run.kills)} (with the victim holding rows: {len(in_flight)}; "
        f"rows held at the kills: {sum(k.in_flight for k in run.kills)})"
    )
    if len(run.kills) < options.kills:
        print("  WARNING: the drain finished before all kills; use more targets or latency")
    for kill in run.kills:
        print(
            f"  kill at T0+{kill.at:5.1f} s: pid {kill.pid}, held {kill.in_flight}, "
            f"open targets {kill.open_targets}"
        )
    states = Counter(r.state for r in rows)
    print(f"final states: {dict(states)}")
    print(f"published: {states['published']} of {len(rows)}")
    reasons = Counter(r.last_error_code for r in rows if r.state in ("failed", "outcome_unknown"))
    print(f"failed by reason (last_error_code): {dict(reasons)}")
    print(f"lost (not terminal after the drain deadline): {sum(left.values())} {left or ''}")


# The faults that leave a call's outcome unknown by design: the post is made and the answer is a
# 500 or held past the HTTP timeout, or the request is held past it and refused later.
DOUBT_BY_DESIGN = ("error_after_create", "lost_response", "timeout")


def doubt_accounting(
    options: Options, run: Run, outcomes: dict[str, int], stats: dict[str, Any]
) -> str:
    """In-doubt attempts split by cause: the injected faults that make a call's outcome unknown
    by design, claims SIGKILLed past their send gate (at most the rows the victims held), and
    the rest, which only the engine can have caused (its own timeouts under load)."""
    in_doubt = outcomes.get("in_doubt", 0)
    injected = sum(int(stats.get("faults", {}).get(name, 0)) for name in DOUBT_BY_DESIGN)
    killed = sum(kill.in_flight for kill in run.kills)
    left = max(0, in_doubt - injected)
    rest = max(0, left - killed)

    def share(count: int) -> str:
        return f"{count} ({100 * count / options.targets:.2f} % of targets)"

    return (
        f"in doubt: {share(in_doubt)}; injected faults that make the outcome unknown by design "
        f"{share(injected)}; the other {share(left)} against {killed} rows held by killed "
        f"workers; self-inflicted (beyond both) at least {share(rest)}"
    )


def statuses_by_text(statuses: list[dict[str, Any]]) -> dict[str, list[datetime]]:
    """Mastodon statuses or X tweets keyed like sandbox refs: each post's content is unique."""
    found: defaultdict[str, list[datetime]] = defaultdict(list)
    for status in statuses:
        found[status["text"]].append(parse_timestamp(status["created_at"]))
    return dict(found)


async def platform_posts(sim: Simulator, options: Options) -> dict[str, list[datetime]]:
    """Every post the simulator holds, grouped by what names one target (its ref, or its text)."""
    if options.platform == "sandbox":
        return await sim.created_at_by_ref()
    if options.platform == "linkedin":
        posts = (await sim.call("GET", "/_sim/posts"))["posts"]
        found: defaultdict[str, list[datetime]] = defaultdict(list)
        for post in posts:
            found[post["body"]["commentary"]].append(
                datetime.fromtimestamp(post["createdAt"] / 1000, UTC)
            )
        return dict(found)
    if options.platform == "instagram":
        return await instagram_posts(sim)
    if options.platform == "x":
        tweets = (await sim.call("GET", "/_sim/tweets"))["tweets"]
        return statuses_by_text([t for t in tweets if not t.get("deleted")])
    return statuses_by_text((await sim.call("GET", "/_sim/statuses"))["statuses"])


async def seed_x(options: Options, db: BenchDb, sim: Simulator, secret: str) -> Tenant:
    """One X user per connection, each with a token minted by the simulator for the whole run,
    stored as the OAuth callback stores a connection."""
    box = SecretBox(secret)
    async with session_for(db.url) as session:
        account = await create_account(session, "Bench", workspace=True)
        made = []
        for n in range(options.connections):
            user = await sim.call("POST", "/_sim/users", {"username": f"bench{n}"})
            minted = await sim.call(
                "POST", "/_sim/tokens", {"user_id": user["id"], "expires_in": 86400}
            )
            request = ConnectionInput(
                Platform.TWITTER,
                credentials={
                    "accessToken": minted["access_token"],
                    "refreshToken": minted.get("refresh_token"),
                    "expiresAt": None,
                    "scope": minted.get("scope", ""),
                },
                options={"apiUrl": sim.url, "username": user["username"]},
            )
            profile = Profile(user["id"], f"@{user['username']}", user["username"])
            made.append(await save_connection(session, box, account.id, request, profile))
    # X's own windows (100 tweets per 15 minutes per user, 900 reads) would only add 429s
    # that the other platforms' runs do not have; the injected faults stay.
    windows = ("tweets_per_window", "reads_per_window", "app_tweets_per_day", "media_per_window")
    await sim.call("POST", "/_sim/config", dict.fromkeys(windows))
    return Tenant(account.id, made)


async def seed_linkedin(options: Options, db: BenchDb, sim: Simulator, secret: str) -> Tenant:
    """One LinkedIn member per connection, each with a 60-day token minted by the simulator,
    stored as the OAuth callback stores a member's connection."""
    box = SecretBox(secret)
    async with session_for(db.url) as session:
        account = await create_account(session, "Bench", workspace=True)
        made = []
        for n in range(options.connections):
            member = await sim.call("POST", "/_sim/members", {"sub": f"bench{n}"})
            minted = await sim.call("POST", "/_sim/tokens", {"sub": member["sub"]})
            request = ConnectionInput(
                Platform.LINKEDIN,
                credentials={
                    "accessToken": minted["access_token"],
                    "refreshToken": None,
                    "expiresAt": None,
                    "scope": minted.get("scope", ""),
                },
                options={"apiUrl": sim.url, "author": member["urn"]},
            )
            profile = Profile(member["sub"], member["name"], member["name"])
            made.append(await save_connection(session, box, account.id, request, profile))
    # The members' daily quota (150 posts) would only add day-long holds.
    await sim.call("POST", "/_sim/config", {"daily_posts_per_member": None})
    return Tenant(account.id, made)


def lookup_verdicts(children: Children) -> Counter[str]:
    """The reconciler's lookups by verdict (yes: found, no: not there, error: could not
    tell), from every worker's log, the killed ones' included."""
    verdicts: Counter[str] = Counter()
    for child in children.started:
        if child.name.startswith("worker"):
            for line in child.log.read_text(errors="replace").splitlines():
                if "publish.lookup " in line:
                    verdicts[line.rsplit("found=", 1)[-1].strip()] += 1
    return verdicts


async def seed(options: Options, db: BenchDb, sim: Simulator, secret: str) -> Tenant:
    if options.platform == "sandbox":
        return await seed_tenant(db.url, secret, sim.url, options.connections)
    if options.platform == "x":
        return await seed_x(options, db, sim, secret)
    if options.platform == "linkedin":
        return await seed_linkedin(options, db, sim, secret)
    if options.platform == "instagram":
        return await seed_instagram(options, db, sim, secret)
    accounts = mastodon_accounts(options.connections)
    for account in accounts:
        body = {"id": account.id, "username": account.username, "token": account.token}
        await sim.call("POST", "/_sim/accounts", body)
    # The accounts' own request windows would only add 429s the sandbox run does not have.
    await sim.call("POST", "/_sim/config", {"rate_limit": None})
    return await seed_mastodon_tenant(db.url, secret, sim.url, accounts)


async def run_chaos(options: Options, db: BenchDb, children: Children, secret: str) -> None:
    sim = Simulator(children, "meta" if options.platform == "instagram" else options.platform)
    await sim.ready()
    config = {
        "latency_ms": options.latency_ms,
        "latency_jitter_ms": options.latency_ms / 2,
        "hang_s": 2,  # longer than the HTTP timeout: held requests end in doubt
        "retry_after_s": 1,
        "seed": options.seed,
        "faults": faults_for(options),
    }
    await sim.call("POST", "/_sim/config", config)
    tenant = await seed(options, db, sim, secret)
    started = time.perf_counter()
    if options.platform == "instagram":
        files_url = await serve_files(children, db, children.workdir)
        await create_image_groups(db, tenant, options.targets, children.workdir, files_url)
    else:
        await create_groups(db.url, tenant, options.targets)
    print(f"insertion: {options.targets} groups in {time.perf_counter() - started:.1f} s")
    settings = engine_settings(options)
    first = [
        start_worker(children, f"worker{n}", db.url, **settings) for n in range(options.workers)
    ]
    for worker in first:
        await wait_until_up(worker, log_marker=STARTED)
    database = create_engine(db.url)
    try:
        due = utc_now()
        await set_due(db.url, due)
        t0, meter = time.monotonic(), CpuMeter(children)
        meter.start()
        run = await chaos_loop(options, children, db, create_session_factory(database), t0)
        left = await wait_drain(db.url, options.drain_timeout)
        elapsed = time.monotonic() - t0
        behind = await wait_groups_caught_up(db.url)
    finally:
        await database.dispose()
    cpu = meter.report()
    workers = [c for c in children.started if c.name.startswith("worker")]
    killed = {kill.pid for kill in run.kills}
    # A worker that died without our SIGKILL would be a finding of its own (or a broken start).
    died = [
        f"{c.name}: {c.process.returncode}"
        for c in workers
        if not c.alive() and c.pid not in killed
    ]
    codes = children.stop(workers)
    rows = await read_targets(db.url)
    outcomes = await attempt_outcomes(db.url)
    created = await platform_posts(sim, options)
    stats = await sim.call("GET", "/_sim/stats")
    report(options, run, rows, left)
    refs, extra = duplicates(created)
    if options.platform == "sandbox":
        print(
            f"duplicates: {stats['duplicates']} refs with more than one post (simulator stats); "
            f"from /_sim/posts: {refs} refs, {extra} extra posts"
        )
        print("\n".join(ground_truth(rows, created)))
    else:
        print(f"duplicates: {refs} texts with more than one status, {extra} extra statuses")
        published = sum(1 for r in rows if r.state == "published")
        print(
            f"published in Herald: {published}; distinct statuses on the platform: {len(created)}"
        )
    if options.platform == "instagram":
        verdicts = lookup_verdicts(children)
        print(
            f"lookups: {verdicts['yes']} settled an in-doubt post (found in recent media, no "
            f"re-publish), {verdicts['no']} found none (sent again with new containers), "
            f"{verdicts['error']} could not tell (looked again later)"
        )
    if options.platform == "x":
        verdicts = lookup_verdicts(children)
        print(
            f"lookups: {verdicts['yes']} settled an in-doubt tweet (found, no re-send), "
            f"{verdicts['no']} found none (sent again), {verdicts['error']} could not tell "
            f"(looked again later); timeline reads: {stats.get('timelines')}; re-sends X "
            f"refused as duplicates, then settled by the connector's lookup: "
            f"{stats.get('duplicates')}"
        )
        errors = await attempt_outcomes(db.url, with_errors=True)
        doubts = sorted(
            ((n, k) for k, n in errors.items() if k.startswith("in_doubt")), reverse=True
        )
        print(f"in-doubt attempts by error (top 5): {doubts[:5]}")
    if options.platform == "linkedin":
        print(
            f"re-sends LinkedIn refused as DUPLICATE_POST, settled as published with the first "
            f"post's URN: {stats.get('duplicates')}"
        )
    print(f"publish_attempt by outcome: {dict(sorted(outcomes.items()))}")
    print(doubt_accounting(options, run, outcomes, stats))
    # Mastodon's simulator also lists the last 1,000 keys it received: too long to print.
    shown = {name: value for name, value in stats.items() if name != "idempotency_keys"}
    print(f"simulator: {shown}")
    print(f"elapsed: {elapsed:.1f} s from T0 until every target was terminal (or the deadline)")
    print(
        f"group statuses behind their targets: {behind[0]} when the targets were terminal, "
        f"{behind[1]} {behind[2]:.0f} s later (lost refreshes are made good after "
        f"{LEFT_OVER_AFTER.total_seconds():.0f} s)"
    )
    print(f"workers' exit codes after SIGTERM: {codes}; died on their own: {died or 'none'}")
    print("\n".join(cpu))


async def main_async(options: Options) -> None:
    secret = new_secret_key()
    with workspace() as workdir:
        async with bench_database("postgres", workdir) as db:
            with Children(workdir, child_env(secret, log_level="info")) as children:
                await run_chaos(options, db, children, secret)


def main() -> None:
    raise_on_sigterm()
    options = parse_options()
    print(
        f"chaos: platform {options.platform}, targets {options.targets}, "
        f"workers {options.workers} x {options.concurrency}, "
        f"kills {options.kills} every {options.kill_every} s, unsafe retry "
        f"{options.unsafe_retry}, seed {options.seed}, connections {options.connections}, "
        f"latency {options.latency_ms:.0f} ms, faults {faults_for(options)}; "
        f"CPUs {os.cpu_count()}; herald sources {source_digest()}"
    )
    asyncio.run(main_async(options))


if __name__ == "__main__":
    main()
