"""N posts due at once to ONE mastodon-mock account, K `herald worker`s at default settings.

Does the engine find mastodon-mock's limit by itself? The mock (from interop/, installed under
.cache/interop by `make interop`) answers 50 concurrent posts but collapses near 150. Prints, every
few seconds, each worker's limit for the mock's host (herald_host_limit from its /metrics), its
calls running and waiting, and the targets' states; then the drain time, the states and attempt
outcomes left, and what the mock holds (statuses, duplicates)."""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from _harness import (
    BenchDb,
    Children,
    MastodonAccount,
    attempt_outcomes,
    bench_database,
    child_env,
    create_groups,
    free_port,
    herald_env,
    new_secret_key,
    raise_on_sigterm,
    seed_mastodon_tenant,
    session_for,
    set_due,
    source_digest,
    wait_until_up,
    workspace,
)
from sqlalchemy import func, select

from herald.domain.timestamps import utc_now
from herald.models import PublishTarget

MOCK = Path(__file__).resolve().parent.parent / ".cache" / "interop" / "mastodon-mock" / "bin"
TERMINAL = {"published", "failed", "outcome_unknown"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=600)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="drain deadline, seconds")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between samples")
    return parser.parse_args()


@contextmanager
def mastodon_mock(workdir: Path) -> Iterator[str]:
    """mastodon-mock on an in-memory database and a free loopback port, stopped on exit."""
    executable = MOCK / "mastodon_mock"
    if not executable.exists():
        raise SystemExit(f"{executable} is missing: run `make interop` first")
    port = free_port()
    log = (workdir / "mastodon-mock.log").open("ab")
    argv = [str(executable), "serve", "--in-memory", "--host=127.0.0.1", f"--port={port}"]
    process = subprocess.Popen(  # noqa: S603 (the installed interop server, fixed arguments)
        argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v1/instance", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mastodon-mock did not start; see {workdir}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def host_gauges(metrics: str, host: str) -> dict[str, int]:
    found = {}
    for name in ("limit", "running", "waiting", "drops_total"):
        match = re.search(rf'^herald_host_{name}{{host="{re.escape(host)}"}} (\d+)$', metrics, re.M)
        if match:
            found[name] = int(match.group(1))
    return found


async def states(url: str) -> dict[str, int]:
    query = select(PublishTarget.state, func.count()).group_by(PublishTarget.state)
    async with session_for(url, write=False) as session:
        return {state: int(n) for state, n in await session.execute(query)}


async def mock_statuses(url: str, account: MastodonAccount) -> list[dict[str, Any]]:
    """Every status of the account, newest first, page by page."""
    found: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "40"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while True:
            page = await client.get(f"/api/v1/accounts/{account.id}/statuses", params=params)
            page.raise_for_status()
            statuses = page.json()
            if not statuses:
                return found
            found += statuses
            params["max_id"] = statuses[-1]["id"]


async def sample(ports: list[int], host: str, db: BenchDb, t0: float) -> tuple[dict[str, int], str]:
    cells = []
    async with httpx.AsyncClient(timeout=5) as client:
        for port in ports:
            try:
                text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.HTTPError:
                cells.append("  -/-/-")
                continue
            g = host_gauges(text, host)
            cells.append(
                f"{g.get('limit', '-'):>4}/{g.get('running', '-')}/{g.get('waiting', '-')}"
            )
    counts = await states(db.url)
    shown = " ".join(f"{s}={n}" for s, n in sorted(counts.items()))
    return counts, f"{time.monotonic() - t0:6.1f} s  " + "  ".join(cells) + f"   {shown}"


async def run(options: argparse.Namespace, workdir: Path, mock_url: str) -> None:
    secret = new_secret_key()
    async with httpx.AsyncClient(timeout=10) as client:
        user = await client.post(f"{mock_url}/api/v1/_mock/dev_user", json={"username": "bench"})
    user.raise_for_status()
    body = user.json()
    account = MastodonAccount(body["id"], body["username"], body["access_token"])
    host = mock_url.removeprefix("http://")
    async with bench_database("postgres", workdir) as db:
        tenant = await seed_mastodon_tenant(db.url, secret, mock_url, [account])
        await create_groups(db.url, tenant, options.posts)
        with Children(workdir, child_env(secret)) as children:
            ports = [free_port() for _ in range(options.workers)]
            for n, port in enumerate(ports):
                env = herald_env(database_url=db.url)
                child = children.start(f"worker{n}", "worker", "--metrics-port", str(port), env=env)
                await wait_until_up(child, url=f"http://127.0.0.1:{port}/healthz")
            await set_due(db.url, utc_now())
            t0 = time.monotonic()
            print("time     limit/running/waiting per worker for the mock's host   states")
            while True:
                counts, line = await sample(ports, host, db, t0)
                print(line, flush=True)
                if set(counts) <= TERMINAL or time.monotonic() - t0 > options.timeout:
                    break
                await asyncio.sleep(options.every)
            elapsed = time.monotonic() - t0
            _, line = await sample(ports, host, db, t0)
            print(f"final:  {line}")
        print(f"drained in {elapsed:.1f} s; states {await states(db.url)}")
        print(f"attempts: {await attempt_outcomes(db.url, with_errors=True)}")
    statuses = await mock_statuses(mock_url, account)
    texts = Counter(status["content"] for status in statuses)
    duplicates = sum(n - 1 for n in texts.values() if n > 1)
    print(f"mastodon-mock: {len(statuses)} statuses, {duplicates} duplicates")


def main() -> None:
    options = parse_args()
    raise_on_sigterm()
    print(f"herald sources {source_digest()}")
    print(f"mastodon burst: {options.posts} posts, {options.workers} workers, default settings")
    with workspace() as workdir, mastodon_mock(workdir) as mock_url:
        asyncio.run(run(options, workdir, mock_url))


if __name__ == "__main__":
    main()
