"""The partition test's site (addresses, settings), waits and database reads."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from herald.models import PublishTarget
from netns_support import SUBNET, Child, Children, Lab

T = TypeVar("T")
TERMINAL = ("published", "failed", "outcome_unknown")
CLAIMED = ("publishing", "reconciling")


@dataclass(frozen=True)
class Site:
    """Where each host's service listens in the lab, and the environment they share."""

    postgres: str
    api: str
    platform_host: str
    platform_port: int

    @classmethod
    def of(cls, lab: Lab) -> Site:
        hosts = lab.hosts
        return cls(hosts["postgres"].address, hosts["api"].address, hosts["platform"].address, 8090)

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://postgres@{self.postgres}:5432/herald"

    @property
    def api_url(self) -> str:
        return f"http://{self.api}:8080"

    @property
    def platform_url(self) -> str:
        return f"http://{self.platform_host}:{self.platform_port}"

    def env(self, secret_key: str, **settings: str) -> dict[str, str]:
        """The inherited environment without HERALD_* variables, plus the site's settings."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
        site = {
            "PYTHONUNBUFFERED": "1",
            "HERALD_DATABASE_URL": self.database_url,
            "HERALD_SECRET_KEY": secret_key,  # every host opens the same sealed credentials
            "HERALD_SANDBOX_URL": self.platform_url,
            # The platform host is on the lab's private subnet, which egress refuses by default.
            "HERALD_EGRESS_ALLOW": f"{SUBNET}.0/24",
            "HERALD_LOG_LEVEL": "info",
        }
        return inherited | site | {f"HERALD_{k.upper()}": v for k, v in settings.items()}


def herald(host: str, *args: str) -> list[str]:
    """A `herald` command with a data dir of the host's own."""
    return [sys.executable, "-m", "herald", "--data-dir", f"{host}-data", *args]


async def wait_for(
    check: Callable[[], Awaitable[T | None]],
    what: str,
    children: Children,
    within: float = 60,
    alive: tuple[Child, ...] = (),
) -> T:
    """Poll `check` until it returns something other than None; fail with the processes' logs
    after `within` seconds, or at once if one of `alive` exits."""
    deadline = time.monotonic() + within
    while True:
        found = await check()
        if found is not None:
            return found
        dead = [child.name for child in alive if child.process.poll() is not None]
        assert not dead, f"{dead} exited while waiting for {what}\n{children.tails()}"
        assert time.monotonic() < deadline, f"{what}: not within {within} s\n{children.tails()}"
        await asyncio.sleep(0.2)


async def create_database(site: Site) -> bool | None:
    """CREATE DATABASE herald once the server answers; None while it does not yet."""
    try:
        connection = await asyncpg.connect(
            host=site.postgres, user="postgres", database="postgres", timeout=2
        )
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        await connection.execute("CREATE DATABASE herald")
    finally:
        await connection.close()
    return True


async def answers(url: str) -> bool | None:
    async with httpx.AsyncClient(timeout=2) as client:
        try:
            return True if (await client.get(url)).status_code == 200 else None
        except httpx.TransportError:
            return None


async def logged(child: Child, marker: str) -> bool | None:
    return True if marker in child.text() else None


def banner(api: Child) -> tuple[str, str]:
    """The API key and platform id `herald serve` prints on an empty installation's first start
    (before it answers, so they are in its log by now)."""
    text = api.text()
    key = re.search(r"API key:\s+(\S+)", text)
    platform_id = re.search(r"platform id:\s+(\S+)", text)
    assert key, text
    assert platform_id, text
    return key.group(1), platform_id.group(1)


async def create_posts(site: Site, key: str, platform_id: str, count: int) -> None:
    """`count` posts to publish now, through the API, a few requests at a time."""
    gate = asyncio.Semaphore(8)
    headers = {"x-publora-key": key}
    async with httpx.AsyncClient(base_url=site.api_url, headers=headers, timeout=60) as client:

        async def one(number: int) -> None:
            body = {
                "content": f"Partition post {number}",
                "platforms": [platform_id],
                "status": "scheduled",  # with no time: due now (a bare create is a draft)
            }
            async with gate:
                response = await client.post("/api/v1/create-post", json=body)
            assert response.status_code == 200, response.text

        await asyncio.gather(*(one(number) for number in range(count)))


def owned_by(pid: int) -> Any:
    """Rows a worker leases: its id is host:pid:random."""
    return PublishTarget.lease_owner.like(f"%:{pid}:%") & PublishTarget.state.in_(CLAIMED)


async def claims_of(database: AsyncEngine, pid: int, *, sent: bool = False) -> dict[str, int]:
    """The worker's claims (past the send gate only, with `sent`): target id -> claim token."""
    query = select(PublishTarget.id, PublishTarget.claim_token).where(owned_by(pid))
    if sent:
        query = query.where(PublishTarget.sent_at.is_not(None))
    async with database.connect() as connection:
        return {row.id: row.claim_token for row in await connection.execute(query)}


async def open_targets(database: AsyncEngine) -> int:
    query = select(func.count()).where(PublishTarget.state.not_in(TERMINAL))
    async with database.connect() as connection:
        return int((await connection.scalar(query)) or 0)


async def snapshot(database: AsyncEngine) -> dict[str, tuple[Any, ...]]:
    """Every target's outcome and fencing columns, by id."""
    t = PublishTarget
    columns = (t.state, t.claim_token, t.lease_owner, t.external_id, t.published_at, t.crashes)
    async with database.connect() as connection:
        rows = await connection.execute(select(t.id, *columns))
        return {target_id: tuple(values) for target_id, *values in rows}
