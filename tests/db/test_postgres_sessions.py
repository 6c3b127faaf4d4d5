"""PostgreSQL sessions Herald opens end a transaction left idle, so a client that vanished
mid-transaction (a worker cut off by a partition) does not keep its row locks for hours."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from herald.db import engine as db_engine

# The server the suite's PostgreSQL variants use (tests/conftest.py); this test needs no schema.
ADMIN_URL = os.environ.get(
    "HERALD_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
).replace("postgresql://", "postgresql+asyncpg://")


def test_a_transaction_left_idle_is_ended_by_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_engine, "IDLE_IN_TRANSACTION_MS", 300)

    async def scenario() -> None:
        engine = db_engine.create_engine(ADMIN_URL)
        try:
            async with engine.connect() as connection:
                shown = await connection.scalar(text("SHOW idle_in_transaction_session_timeout"))
                assert shown == "300ms"
                await connection.execute(text("SELECT 1"))  # a transaction is now open
                await asyncio.sleep(1.0)  # idle inside it, past the server's limit
                with pytest.raises(DBAPIError, match="connection is closed"):
                    await connection.execute(text("SELECT 2"))
        finally:
            await engine.dispose()

    asyncio.run(scenario())


async def _terminate_backend_of(engine: db_engine.AsyncEngine) -> None:
    """End the server side of the pool's one idle connection, as a server restart would."""
    async with engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    killer = db_engine.create_engine(ADMIN_URL)
    try:
        async with killer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_S", 0.2)

    async def scenario() -> None:
        engine = db_engine.create_engine(ADMIN_URL, pool_size=1, max_overflow=0)
        try:
            await _terminate_backend_of(engine)
            await asyncio.sleep(0.3)  # idle past the threshold: checked before it is handed out
            async with engine.connect() as connection:
                assert await connection.scalar(text("SELECT 7")) == 7
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_a_connection_back_in_the_pool_a_moment_ago_is_handed_out_without_a_ping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A round trip per checkout was 6.5 % of a worker's CPU in a publishing burst, where every
    connection returns to the pool milliseconds before it is taken again."""
    monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_S", 60.0)
    pings: list[object] = []

    async def scenario() -> None:
        engine = db_engine.create_engine(ADMIN_URL, pool_size=1, max_overflow=0)
        dialect = engine.sync_engine.dialect
        ping = dialect.do_ping
        monkeypatch.setattr(dialect, "do_ping", lambda c: pings.append(c) or ping(c))
        try:
            for _ in range(5):
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    asyncio.run(scenario())
    assert pings == []
