"""Shared benchmark helpers: child processes, the simulator, databases, bulk posts, results."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import herald
from herald.db.engine import create_engine, create_session_factory, unit_of_work
from herald.db.migrate import migrate
from herald.domain.platform import Platform, platform_id
from herald.domain.post_state import TargetState, group_status, wire_status
from herald.domain.timestamps import parse_timestamp, utc_now
from herald.models import Connection, PostGroup, PublishAttempt, PublishTarget
from herald.platforms.base import Profile
from herald.services.account import create_account
from herald.services.connection import add_sandbox_connection, save_connection
from herald.services.connection_inputs import ConnectionInput
from herald.services.post import EXPIRY_AFTER_DUE, NewPost, create_post
from herald.services.secret_box import SecretBox

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
TERMINAL = ("published", "failed", "outcome_unknown")
# Posts are inserted this far ahead and then moved to T0 in one UPDATE, so however long the
# insertion takes, T0 can be a few seconds after the engines are up.
FAR_FUTURE = timedelta(days=30)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STARTED = "engine.started"  # what the engine logs once its loops run


def raise_on_sigterm() -> None:
    """A SIGTERM to the benchmark unwinds like Ctrl-C, so every `finally` stops its children."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A temporary directory for logs and the SQLite file; kept if HERALD_BENCH_KEEP=1 (stripped
    from the children's environment like every HERALD_* variable)."""
    path = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    try:
        yield path
    finally:
        if os.environ.get("HERALD_BENCH_KEEP") == "1":
            print(f"logs kept in {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def source_digest() -> str:
    """A short hash of the herald sources a run measured: the tree changes while we work."""
    digest = hashlib.sha256()
    for path in sorted(Path(herald.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, signum: int) -> None:
        # Each child leads its own process group, so this reaches anything it started too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def stop(self, grace: float = 20.0, *, term: bool = True) -> int:
        """SIGTERM (unless sent already), then SIGKILL if it has not exited within `grace`
        seconds; grace 0 is an immediate SIGKILL."""
        if not self.alive():
            return self.process.returncode
        if grace > 0:
            if term:
                self.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                return self.process.wait(timeout=grace)
        self.signal(signal.SIGKILL)
        return self.process.wait()


class Children:
    """Every process a run starts; leaving the `with` block stops all of them, whatever happened."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.started: list[Child] = []

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Child:
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
                [sys.executable, "-m", "herald", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**self.env, **(env or {})},
                cwd=self.workdir,
                start_new_session=True,  # Ctrl-C reaches only us; we stop them in order
            )
        self.started.append(Child(name, process, log))
        return self.started[-1]

    def stop(self, children: Sequence[Child]) -> list[int]:
        """SIGTERM them all at once (so they shut down together), then wait for each."""
        live = [child for child in children if child.alive()]
        for child in live:
            child.signal(signal.SIGTERM)
        return [child.stop(term=False) for child in live]

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop(self.started[::-1])


def herald_env(**settings: object) -> dict[str, str]:
    """HERALD_* variables from settings: engine_concurrency=8 -> HERALD_ENGINE_CONCURRENCY=8."""
    return {
        f"HERALD_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in settings.items()
    }


def child_env(secret_key: str, **settings: object) -> dict[str, str]:
    """The inherited environment without any HERALD_* variable, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env["PYTHONUNBUFFERED"] = "1"
    # Every process opens the connection credentials the bench sealed, so they share the key;
    # the simulators listen on loopback, which the egress policy refuses unless opened.
    loopback = {"egress_allow": "127.0.0.0/8", **settings}
    return {**env, **herald_env(secret_key=secret_key, **loopback)}


def new_secret_key() -> str:
    return Fernet.generate_key().decode()


async def wait_until_up(child: Child, *, url: str = "", log_marker: str = "") -> None:
    """Until `url` answers 200, or `log_marker` is in the child's log (a worker has no port)."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited; see {child.log}")
            if log_marker and log_marker in child.log.read_text(errors="replace"):
                return
            if url:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(url)).status_code == 200:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{child.name} was not up within 60 s; see {child.log}")
            await asyncio.sleep(0.1)


async def start_embedded(children: Children, data_dir: Path, **settings: object) -> Child:
    """`herald serve`: API and engine in one process, on the SQLite file in `data_dir`."""
    port = str(free_port())
    args = ("--data-dir", str(data_dir), "serve", "--port", port)
    child = children.start("serve", *args, env=herald_env(**settings))
    await wait_until_up(child, url=f"http://127.0.0.1:{port}/healthz")
    return child


def start_worker(children: Children, name: str, database_url: str, **settings: object) -> Child:
    """`herald worker` (scale-out, PostgreSQL); `wait_until_up(child, log_marker=STARTED)`."""
    return children.start(name, "worker", env=herald_env(database_url=database_url, **settings))


class Simulator:
    """`herald sim` on a free port, configured and read through its control API."""

    def __init__(self, children: Children, platform: str = "sandbox") -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.child = children.start("sim", "sim", platform, "--port", str(port))

    async def ready(self) -> None:
        await wait_until_up(self.child, url=f"{self.url}/_sim/stats")

    async def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """The control API: ("POST", "/_sim/config", {...}), ("GET", "/_sim/stats")."""
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as client:
            response = await client.request(method, path, json=body)
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result

    async def created_at_by_ref(self) -> dict[str, list[datetime]]:
        """When each post was created, per ref ("<target id>:<part>")."""
        found: defaultdict[str, list[datetime]] = defaultdict(list)
        for post in (await self.call("GET", "/_sim/posts"))["posts"]:
            found[post["ref"]].append(parse_timestamp(post["createdAt"]))
        return dict(found)


@dataclass(frozen=True)
class BenchDb:
    backend: str
    url: str
    data_dir: Path  # the SQLite file lives here; `herald serve --data-dir` finds it


@contextlib.asynccontextmanager
async def bench_database(backend: str, workdir: Path) -> AsyncIterator[BenchDb]:
    """A migrated throwaway database: a SQLite file, or a PostgreSQL database dropped after."""
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        db = BenchDb(backend, f"sqlite+aiosqlite:///{data_dir / 'herald.db'}", data_dir)
        await migrate(db.url)
        yield db
        return
    name = f"herald_bench_{secrets.token_hex(4)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        db = BenchDb(backend, PG_URL.format(name=name), data_dir)
        await migrate(db.url)
        yield db
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def session_for(url: str, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """One unit of work on a short-lived engine."""
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine), write=write) as session:
            yield session
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Tenant:
    account_id: str
    connections: list[Connection]

    @property
    def platform_ids(self) -> list[str]:
        return [platform_id(Platform(c.platform), c.external_id) for c in self.connections]


async def seed_tenant(url: str, secret_key: str, sim_url: str, connections: int = 1) -> Tenant:
    """An account with `connections` sandbox connections that publish to the simulator."""
    box, options = SecretBox(secret_key), {"baseUrl": sim_url}
    async with session_for(url) as session:
        account = await create_account(session, "Bench", workspace=True)
        made = [
            await add_sandbox_connection(session, box, account.id, options)
            for _ in range(connections)
        ]
    return Tenant(account.id, made)


@dataclass(frozen=True)
class MastodonAccount:
    id: str
    username: str
    token: str


def mastodon_accounts(count: int) -> list[MastodonAccount]:
    return [MastodonAccount(str(10_000 + n), f"bench{n}", f"bench-token-{n}") for n in range(count)]


async def seed_mastodon_tenant(
    url: str, secret_key: str, instance_url: str, accounts: Sequence[MastodonAccount]
) -> Tenant:
    """An account with one Mastodon connection per simulator account, stored as connecting
    them would store them (the simulator answered verify_credentials for each already)."""
    box = SecretBox(secret_key)
    async with session_for(url) as session:
        account = await create_account(session, "Bench", workspace=True)
        made = []
        for sim_account in accounts:
            request = ConnectionInput(
                Platform.MASTODON,
                credentials={"accessToken": sim_account.token},
                options={"instanceUrl": instance_url},
            )
            profile = Profile(sim_account.id, f"@{sim_account.username}", sim_account.username)
            made.append(await save_connection(session, box, account.id, request, profile))
    return Tenant(account.id, made)


async def create_groups(url: str, tenant: Tenant, count: int, batch: int = 500) -> None:
    """`count` groups through the real create_post service, one target each, the connections
    taken in turn, `batch` per transaction; due far ahead until `set_due` moves them."""
    engine, platforms = create_engine(url), tenant.platform_ids
    sessions = create_session_factory(engine)
    try:
        for start in range(0, count, batch):
            now = utc_now()
            async with unit_of_work(sessions) as session:
                for number in range(start, min(count, start + batch)):
                    new = NewPost(
                        content=f"Benchmark post {number}: hello from Herald",
                        platform_ids=[platforms[number % len(platforms)]],
                        scheduled_at=now + FAR_FUTURE,
                    )
                    await create_post(session, tenant.account_id, new, now)
    finally:
        await engine.dispose()


async def set_due(url: str, due: datetime) -> None:
    """Every scheduled target (and its group) due at `due`, in one UPDATE per table."""
    target, options = PublishTarget, {"synchronize_session": False}
    async with session_for(url) as session:
        await session.execute(
            update(target)
            .where(target.state == "scheduled")
            .values(due_at=due, expire_at=due + EXPIRY_AFTER_DUE),
            execution_options=options,
        )
        await session.execute(update(PostGroup).values(scheduled_at=due), execution_options=options)


@dataclass(frozen=True)
class TargetRow:
    id: str
    state: str
    scheduled_at: datetime | None  # the group's time: lateness counts from here, not due_at
    due_at: datetime | None  # moved by retries and rate limits
    sent_at: datetime | None
    published_at: datetime | None
    updated_at: datetime
    last_error_code: str | None


async def wait_drain(url: str, within: float, every: float = 0.5) -> dict[str, int]:
    """Poll until every target is terminal or `within` s pass; returns the states left open."""
    query = select(PublishTarget.state, func.count()).group_by(PublishTarget.state)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    deadline = time.monotonic() + within
    try:
        while True:
            async with unit_of_work(sessions, write=False) as session:
                counts = {state: int(n) for state, n in await session.execute(query)}
            left = {state: n for state, n in counts.items() if state not in TERMINAL}
            if not left or time.monotonic() > deadline:
                return left
            await asyncio.sleep(every)
    finally:
        await engine.dispose()


async def read_targets(url: str) -> list[TargetRow]:
    t, g = PublishTarget, PostGroup
    columns = (t.id, t.state, g.scheduled_at, t.due_at, t.sent_at, t.published_at, t.updated_at)
    query = select(*columns, t.last_error_code).join(g, g.id == t.post_group_id)
    async with session_for(url, write=False) as session:
        return [TargetRow(*row) for row in await session.execute(query)]


async def groups_behind(url: str) -> int:
    """Groups whose stored status (what list filters and tallies read) is not the status their
    targets give: a refresh that was lost, and that maintenance has not made good yet."""
    targets = select(PublishTarget.post_group_id, PublishTarget.state, PublishTarget.sent_at)
    async with session_for(url, write=False) as session:
        stored = dict((await session.execute(select(PostGroup.id, PostGroup.status))).all())
        found: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        for group_id, state, sent_at in await session.execute(targets):
            found[group_id].append((state, sent_at is not None))
    derived = {
        group_id: group_status(wire_status(TargetState(s), sent=sent) for s, sent in states).value
        for group_id, states in found.items()
    }
    return sum(stored.get(group_id) != status for group_id, status in derived.items())


async def attempt_outcomes(url: str, *, with_errors: bool = False) -> dict[str, int]:
    """publish_attempt rows by outcome (and error message): the log of every platform call."""
    columns = (PublishAttempt.outcome, PublishAttempt.error)[: 2 if with_errors else 1]
    async with session_for(url, write=False) as session:
        rows = await session.execute(select(func.count(), *columns).group_by(*columns))
        return {" / ".join(filter(None, labels)): int(count) for count, *labels in rows}


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of unsorted values; nan when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = -(-len(ordered) * p // 100)  # ceil
    return ordered[min(len(ordered), max(1, int(rank))) - 1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its reaped children (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
    return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS  # utime stime cutime cstime


def postgres_cpu_seconds() -> float:
    """All PostgreSQL processes; the postmaster's cutime keeps the share of exited backends."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                total += cpu_seconds(int(entry.name))
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return float(sum(values) - values[3] - values[4]), float(sum(values))  # minus idle, iowait


class CpuMeter:
    """CPU use of the run's processes, of PostgreSQL and of the whole box over a window."""

    def __init__(self, children: Children) -> None:
        self.children = children
        self._start: dict[str, float] = {}
        self._machine = (0.0, 0.0)
        self._at = 0.0

    def _sample(self) -> dict[str, float]:
        sample = {f"{c.name}[{c.pid}]": cpu_seconds(c.pid) for c in self.children.started}
        # Killed children's CPU moves to our cutime once we reap them.
        sample["bench (+ killed children)"] = cpu_seconds(os.getpid())
        sample["postgres (all)"] = postgres_cpu_seconds()
        return sample

    def start(self) -> None:
        self._start, self._machine, self._at = self._sample(), machine_cpu(), time.monotonic()

    def seconds(self) -> dict[str, float]:
        """CPU seconds each process used since `start` (names as in `report`)."""
        return {n: v - self._start.get(n, 0.0) for n, v in self._sample().items()}

    def report(self, per: int = 0, unit: str = "post") -> list[str]:
        """One line per process; with `per`, also its CPU milliseconds per `unit` (a figure
        that travels between machines better than wall-clock rates)."""
        wall = max(time.monotonic() - self._at, 1e-9)
        used = {n: (v - self._start.get(n, 0.0)) / wall for n, v in self._sample().items()}
        used = {name: share for name, share in used.items() if share > 0}  # gone: counted above
        busy, total = machine_cpu()
        cpus = os.cpu_count() or 1
        machine = cpus * (busy - self._machine[0]) / max(total - self._machine[1], 1.0)
        # Whatever else runs on the box (e.g. a test suite) competes for the same cores.
        used["other processes"] = max(0.0, machine - sum(used.values()))

        def cost(share: float) -> str:
            return f"  {1000 * share * wall / per:6.3f} ms per {unit}" if per else ""

        lines = [f"  {name:<26} {100 * share:6.1f} %{cost(share)}" for name, share in used.items()]
        lines.append(f"  {'machine (all CPUs)':<26} {100 * machine:6.1f} % of {100 * cpus} %")
        return [f"CPU over {wall:.1f} s (100 % = one core):", *lines]
