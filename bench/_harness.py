"""Shared benchmark helpers: child processes, the simulator, databases, bulk posts, results."""

from __future__ import annotations

import asyncio
import contextlib
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

import asyncpg
import httpx
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db.engine import create_engine, create_session_factory, unit_of_work
from herald.db.migrate import migrate
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import parse_timestamp, utc_now
from herald.models import PostGroup, PublishAttempt, PublishTarget
from herald.services.account import create_account
from herald.services.connection import add_connection
from herald.services.post import EXPIRY_AFTER_DUE, NewPost, create_post
from herald.services.secret_box import SecretBox

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
TERMINAL = ("published", "failed", "outcome_unknown")
# Posts are inserted this far ahead, then moved to T0 in one UPDATE: insertion time never
# eats into the lead time before T0.
FAR_FUTURE = timedelta(days=30)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ---- child processes -------------------------------------------------------------------------


def raise_on_sigterm() -> None:
    """A SIGTERM to the benchmark unwinds like Ctrl-C, so every `finally` stops its children."""

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A temporary directory for the run's logs and SQLite file; kept when HERALD_BENCH_KEEP=1
    (the variable is stripped from the children's environment like every HERALD_* one)."""
    path = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    try:
        yield path
    finally:
        if os.environ.get("HERALD_BENCH_KEEP") == "1":
            print(f"logs kept in {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


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

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, grace: float = 20.0) -> int:
        """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode


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
        child = Child(name, process, log)
        self.started.append(child)
        return child

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *_exc: object) -> None:
        for child in reversed(self.started):
            child.stop()


def herald_env(**settings: object) -> dict[str, str]:
    """HERALD_* variables from settings: engine_concurrency=8 -> HERALD_ENGINE_CONCURRENCY."""
    return {
        f"HERALD_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in settings.items()
    }


def child_env(secret_key: str, **settings: object) -> dict[str, str]:
    """The inherited environment without any HERALD_* variable, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env["PYTHONUNBUFFERED"] = "1"
    # Every process opens the connection credentials the bench sealed, so they share the key.
    return {**env, **herald_env(secret_key=secret_key, **settings)}


def new_secret_key() -> str:
    return Fernet.generate_key().decode()


async def wait_http(url: str, child: Child, within: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited; see {child.log}")
            with contextlib.suppress(httpx.TransportError):
                response = await client.get(url)
                if response.status_code == 200:
                    return response
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {within} s")
            await asyncio.sleep(0.1)


async def wait_log(child: Child, marker: str, within: float = 60.0) -> None:
    """Until `marker` appears in the child's log: how a worker (no HTTP port) says it is up."""
    deadline = time.monotonic() + within
    while marker not in child.log.read_text(errors="replace"):
        if not child.alive():
            raise RuntimeError(f"{child.name} exited; see {child.log}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{child.name} did not log {marker!r} within {within} s")
        await asyncio.sleep(0.1)


def start_embedded(children: Children, data_dir: Path, port: int, **settings: object) -> Child:
    """`herald serve`: API and engine in one process on the SQLite file of `data_dir`."""
    args = ("--data-dir", str(data_dir), "serve", "--port", str(port))
    return children.start("serve", *args, env=herald_env(**settings))


def start_worker(children: Children, name: str, database_url: str, **settings: object) -> Child:
    return children.start(name, "worker", env=herald_env(database_url=database_url, **settings))


async def wait_worker(child: Child) -> None:
    await wait_log(child, "engine.started")


# ---- the simulator ---------------------------------------------------------------------------


class Simulator:
    """`herald sim` on a free port, configured and read through its control API."""

    def __init__(self, children: Children) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.child = children.start("sim", "sim", "--port", str(self.port))

    async def ready(self) -> None:
        await wait_http(f"{self.url}/_sim/stats", self.child)

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as client:
            response = await client.request(method, path, json=body)
            response.raise_for_status()
            return response.json()

    async def configure(self, **config: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/_sim/config", config)
        return result

    async def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/_sim/stats")
        return result

    async def created_at_by_ref(self) -> dict[str, list[datetime]]:
        """When each post was created, per ref ("<target id>:<part>")."""
        posts = (await self._call("GET", "/_sim/posts"))["posts"]
        found: defaultdict[str, list[datetime]] = defaultdict(list)
        for post in posts:
            found[post["ref"]].append(parse_timestamp(post["createdAt"]))
        return dict(found)


# ---- databases -------------------------------------------------------------------------------


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
async def sessions_for(url: str, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """One unit of work on a short-lived engine."""
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine), write=write) as session:
            yield session
    finally:
        await engine.dispose()


# ---- posts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    account_id: str
    platform_ids: list[str]
    connection_ids: list[str]
    external_ids: list[str]


async def seed_tenant(url: str, secret_key: str, sim_url: str, connections: int = 1) -> Tenant:
    """An account with `connections` sandbox connections that publish to the simulator."""
    box = SecretBox(secret_key)
    async with sessions_for(url) as session:
        account = await create_account(session, "Bench", workspace=True)
        made = [
            await add_connection(
                session, box, account.id, Platform.SANDBOX.value, {"baseUrl": sim_url}
            )
            for _ in range(connections)
        ]
    return Tenant(
        account.id,
        [platform_id(Platform.SANDBOX, c.external_id) for c in made],
        [c.id for c in made],
        [c.external_id for c in made],
    )


async def create_groups(url: str, tenant: Tenant, count: int, batch: int = 500) -> None:
    """`count` groups through the real create_post service, one target each, the connections
    taken in turn; due far in the future until `set_due` moves them."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        for start in range(0, count, batch):
            now = utc_now()
            async with unit_of_work(sessions) as session:
                for number in range(start, min(count, start + batch)):
                    platform = tenant.platform_ids[number % len(tenant.platform_ids)]
                    new = NewPost(
                        content=f"Benchmark post {number}: hello from Herald",
                        platform_ids=[platform],
                        scheduled_at=now + FAR_FUTURE,
                    )
                    await create_post(session, tenant.account_id, new, now)
    finally:
        await engine.dispose()


async def set_due(url: str, due: datetime) -> None:
    """Every scheduled target (and its group) due at `due`, in one UPDATE per table."""
    async with sessions_for(url) as session:
        await session.execute(
            update(PublishTarget)
            .where(PublishTarget.state == "scheduled")
            .values(due_at=due, expire_at=due + EXPIRY_AFTER_DUE),
            execution_options={"synchronize_session": False},
        )
        await session.execute(
            update(PostGroup).values(scheduled_at=due),
            execution_options={"synchronize_session": False},
        )


# ---- results ---------------------------------------------------------------------------------


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


async def state_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(PublishTarget.state, func.count()).group_by(PublishTarget.state)
    )
    return {state: int(count) for state, count in rows}


async def wait_drain(url: str, within: float, every: float = 0.5) -> dict[str, int]:
    """Poll until every target is terminal or `within` s pass; returns the states left open."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    deadline = time.monotonic() + within
    try:
        while True:
            async with unit_of_work(sessions, write=False) as session:
                counts = await state_counts(session)
            open_states = {s: n for s, n in counts.items() if s not in TERMINAL}
            if not open_states or time.monotonic() > deadline:
                return open_states
            await asyncio.sleep(every)
    finally:
        await engine.dispose()


async def read_targets(url: str) -> list[TargetRow]:
    t, g = PublishTarget, PostGroup
    query = select(
        t.id,
        t.state,
        g.scheduled_at,
        t.due_at,
        t.sent_at,
        t.published_at,
        t.updated_at,
        t.last_error_code,
    ).join(g, g.id == t.post_group_id)
    async with sessions_for(url, write=False) as session:
        return [TargetRow(*row) for row in await session.execute(query)]


async def attempt_outcomes(url: str, *, with_errors: bool = False) -> dict[str, int]:
    """publish_attempt rows by outcome (and error message): the log of every platform call."""
    a = PublishAttempt
    columns = (a.outcome, a.error) if with_errors else (a.outcome,)
    async with sessions_for(url, write=False) as session:
        rows = await session.execute(select(*columns, func.count()).group_by(*columns))
        return {
            " / ".join(str(part) for part in row[:-1] if part is not None): int(row[-1])
            for row in rows
        }


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of unsorted values; nan when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil without floats drifting
    return ordered[min(len(ordered), int(rank)) - 1]


def spread(values: Sequence[float], unit: str = "s") -> str:
    return (
        f"p50 {percentile(values, 50):.3f} {unit}, p99 {percentile(values, 99):.3f} {unit}, "
        f"max {max(values, default=float('nan')):.3f} {unit} (n={len(values)})"
    )


# ---- /proc: CPU and memory -------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, plus that of its reaped children (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
    return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS  # utime stime cutime cstime


def pids_named(comm: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == comm:
                    found.append(int(entry.name))
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


class CpuMeter:
    """CPU use of the run's processes (and of PostgreSQL) between `start()` and `report()`.
    PostgreSQL backends come and go; the postmaster's cutime keeps the exited ones' share."""

    def __init__(self, children: Children) -> None:
        self.children = children
        self._start: dict[str, float] = {}
        self._machine = (0.0, 0.0)
        self._at = 0.0

    def _sample(self) -> dict[str, float]:
        sample = {f"{c.name}[{c.pid}]": cpu_seconds(c.pid) for c in self.children.started}
        # Our own CPU, plus that of children we reaped in the window (SIGKILLed workers).
        sample["bench (+ reaped children)"] = cpu_seconds(os.getpid())
        sample["postgres (all)"] = sum(cpu_seconds(pid) for pid in pids_named("postgres"))
        return sample

    def start(self) -> None:
        self._start, self._machine, self._at = self._sample(), machine_cpu(), time.monotonic()

    def report(self) -> list[str]:
        wall = max(time.monotonic() - self._at, 1e-9)
        now = self._sample()
        used = {name: (now[name] - self._start.get(name, 0.0)) / wall for name in now}
        lines = [f"  {name:<26} {100 * share:6.1f} %" for name, share in used.items() if share > 0]
        busy, total = machine_cpu()
        cpus = os.cpu_count() or 1
        machine = cpus * (busy - self._machine[0]) / max(total - self._machine[1], 1.0)
        lines.append(f"  {'machine (all CPUs)':<26} {100 * machine:6.1f} % of {100 * cpus} %")
        # Whatever else runs on the box (e.g. a test suite) competes for the same cores.
        other = max(0.0, machine - sum(used.values()))
        lines.append(f"  {'other processes':<26} {100 * other:6.1f} %")
        return [f"CPU over {wall:.1f} s (100 % = one core):", *lines]


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as took:` then `took[0]` is the block's wall time in seconds."""
    took: list[float] = []
    start = time.perf_counter()
    try:
        yield took
    finally:
        took.append(time.perf_counter() - start)
