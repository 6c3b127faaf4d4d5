"""SQLite writers in one process queue in the event loop instead of in SQLite's busy handler."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from herald.db import engine as db_engine
from herald.db.engine import create_engine, create_session_factory, unit_of_work


def test_concurrent_writers_in_one_process_never_meet_a_locked_database(tmp_path: Path) -> None:
    """With the busy handler turned off, a writer that found the database locked would fail at
    once; queued in the loop, every one of them commits, in the order they asked."""

    async def scenario() -> list[int]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}")

        @event.listens_for(engine.sync_engine, "connect")
        def no_waiting(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout=0")

        sessions = create_session_factory(engine)
        async with unit_of_work(sessions) as session:
            await session.execute(text("CREATE TABLE entry (n INTEGER)"))

        async def write(n: int) -> None:
            async with unit_of_work(sessions) as session:
                await session.execute(text("INSERT INTO entry (n) VALUES (:n)"), {"n": n})
                await asyncio.sleep(0.01)  # hold the write lock while others ask for it

        try:
            await asyncio.gather(*(write(n) for n in range(12)))
            async with unit_of_work(sessions, write=False) as session:
                return list(await session.scalars(text("SELECT n FROM entry ORDER BY rowid")))
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == list(range(12))


def test_a_writer_waits_no_longer_than_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stuck writer fails the others after the busy timeout, as SQLite's own handler would,
    rather than queueing them forever."""
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_MS", 200)

    async def scenario() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'stuck.db'}")
        sessions = create_session_factory(engine)
        holding, release = asyncio.Event(), asyncio.Event()

        async def stuck_writer() -> None:
            async with unit_of_work(sessions):
                holding.set()
                await release.wait()

        try:
            stuck = asyncio.create_task(stuck_writer())
            await holding.wait()
            with pytest.raises(TimeoutError, match=r"waited 0\.2 s for another writer"):
                async with unit_of_work(sessions):
                    pass
            release.set()
            await stuck
            async with unit_of_work(sessions):  # the queue is free again
                pass
        finally:
            await engine.dispose()

    asyncio.run(scenario())
