"""Shared fixtures: a live Herald server over real HTTP on each database backend.

Every test that touches the database runs twice, on a SQLite file and on PostgreSQL, both built
by the real migrations. PostgreSQL is required when CI=true; elsewhere its variants are skipped
with a notice when the server is not reachable."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from browser_support import chromium
from herald.api.context import AppContext
from herald.app import SANDBOX_PATH
from herald.config import Settings
from herald.db.base import Base
from herald.db.migrate import migrate
from herald.engine.dispatcher import Engine
from herald.services.rate_limit import DatabaseRateLimiter, MemoryRateLimiter
from support import (
    CLIENT_TIMEOUT_S,
    TEST_SETTINGS,
    LiveServer,
    Tenant,
    make_tenant,
    run_live_server,
    running_engine,
)

POSTGRES_ADMIN_URL = os.environ.get(
    "HERALD_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")
# Imported fixtures are found by pytest through the module's names; __all__ marks them used.
__all__ = ["chromium"]


async def _postgres_reachable() -> str | None:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


async def _create_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _postgres_url(name: str) -> str:
    admin = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{admin}/{name}"


@pytest.fixture(scope="session")
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings for a fresh, migrated database of the requested backend."""
    backend: str = request.param
    data_dir = tmp_path_factory.mktemp(f"herald-{backend}")
    if backend == "sqlite":
        settings = Settings(data_dir=data_dir, **TEST_SETTINGS)
        asyncio.run(migrate(settings.resolved_database_url))
        yield settings
        return
    problem = asyncio.run(_postgres_reachable())
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; it is required when CI=true")
        pytest.skip(message + ": PostgreSQL variants skipped")
    name = f"herald_test_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_create_postgres_database(name))
    settings = Settings(data_dir=data_dir, database_url=_postgres_url(name), **TEST_SETTINGS)
    asyncio.run(migrate(settings.resolved_database_url))
    yield settings
    asyncio.run(_drop_postgres_database(name))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", BACKENDS, indirect=True, scope="session")


def _failing_route(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internals: sk_should_never_leak")

    app.add_api_route("/api/v1/__test/explode", explode, methods=["GET"], include_in_schema=False)


@pytest.fixture(scope="session")
def live_server(database: Settings) -> Iterator[LiveServer]:
    with run_live_server(database) as running:
        _failing_route(running.app)
        yield running


@pytest.fixture(scope="module")
def default_server(database: Settings) -> Iterator[LiveServer]:
    """A live server with a new installation's settings (none of TEST_SETTINGS): egress to
    loopback refused, no sandbox control routes, sandbox connections to its own simulator."""
    defaults = Settings(data_dir=database.data_dir, database_url=database.database_url)
    with run_live_server(defaults) as running:
        yield running


async def _empty_tables(context: AppContext) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with context.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                await session.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:
    """The live server with empty tables and a fresh rate limiter for each test."""
    live_server.run(_empty_tables(live_server.context))
    context = live_server.context
    limit = live_server.settings.rate_limit_per_minute
    context.rate_limiter = (
        MemoryRateLimiter(limit)
        if live_server.settings.is_sqlite
        else DatabaseRateLimiter(limit, context.sessions)
    )
    return live_server


@pytest.fixture
def new_tenant(server: LiveServer) -> Iterator[Callable[..., Tenant]]:
    """A factory of tenants (account, key, sandbox connection, client); clients closed after."""
    created: list[Tenant] = []

    def factory(name: str = "Acme", *, workspace: bool = True) -> Tenant:
        created.append(make_tenant(server, name, workspace=workspace))
        return created[-1]

    yield factory
    for made in created:
        made.client.close()


@pytest.fixture
def tenant(new_tenant: Callable[..., Tenant]) -> Tenant:
    return new_tenant()


@pytest.fixture
def anonymous(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url + "/api/v1", timeout=CLIENT_TIMEOUT_S) as client:
        yield client


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def sandbox(server: LiveServer) -> Iterator[httpx.Client]:
    """The sandbox simulator mounted in the live server, reset, with its control API."""
    with httpx.Client(base_url=server.base_url + SANDBOX_PATH, timeout=10) as client:
        client.post("/_sim/reset").raise_for_status()
        yield client


@pytest.fixture
def engine(server: LiveServer, sandbox: httpx.Client) -> Iterator[Engine]:
    """A publishing engine on the live server's loop and database, publishing to its sandbox,
    with short intervals so rescue and reconciliation happen within a test."""
    settings = server.settings.model_copy(
        update={
            "sandbox_url": server.base_url + SANDBOX_PATH,
            "engine_lease_seconds": 3.0,
            "engine_rescue_interval_seconds": 0.2,
            "engine_reconcile_interval_seconds": 0.2,
            "engine_settle_seconds": 0.0,
            "engine_http_timeout_seconds": 1.0,
            "engine_concurrency": 50,
            "media_wait_seconds": 3.0,
        }
    )

    with running_engine(server, settings) as running:
        yield running
