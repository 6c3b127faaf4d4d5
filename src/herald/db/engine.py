"""Engine and session factories, and the unit of work every request, job and command runs in."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Executable

SQLITE_BUSY_TIMEOUT_MS = 10_000

# One queue of writers per SQLite database and event loop. SQLite admits one writer at a time;
# left to its busy handler, writers in the same process that find the lock taken sleep and
# retry on a backoff of up to 100 ms, with no wake-up when the lock frees. Under a publishing
# burst (claims, send gates, results and group statuses all writing) the process then sat idle
# for seconds with due work waiting. Queued here, the next writer starts the moment the last
# one commits. The busy handler still arbitrates between processes (a CLI command beside
# `herald serve`). asyncio locks belong to one loop, hence the key.
_sqlite_writers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Engine, asyncio.Lock]
] = weakref.WeakKeyDictionary()


# A PostgreSQL session idle inside a transaction this long is ended by the server. Herald never
# waits on anything but the database inside a transaction, so only a client that vanished
# mid-transaction (a worker host cut off by a partition) reaches it; without it that client's
# row locks stay until TCP notices, hours by default, and the rescuer skips the rows they lock.
IDLE_IN_TRANSACTION_MS = 30_000
# A pooled PostgreSQL connection idle this long is pinged before it is handed out: the server
# may have restarted or dropped it meanwhile. One back from its last use sooner goes out as it
# is (SQLAlchemy's pre-ping, a round trip at every checkout, was 6.5 % of a worker's CPU in a
# publishing burst); should it have died all the same, its first statement fails as a
# disconnect, and SQLAlchemy then replaces every connection of the pool that is as old.
PING_AFTER_IDLE_S = 1.0


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    settings = {"idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS)}
    kwargs.setdefault("connect_args", {}).setdefault("server_settings", settings)
    engine = create_async_engine(url, **kwargs)
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Pre-ping, but only for connections idle past PING_AFTER_IDLE_S (read at each checkout)."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError("a pooled connection did not answer its ping") from exc


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, FULL sync so a committed gate survives power loss, and
    transactions begun by us so that writers take the lock up front (`BEGIN IMMEDIATE`)
    instead of failing to upgrade a read lock halfway through."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@asynccontextmanager
async def _queued_writer(engine: Engine) -> AsyncIterator[None]:
    """Hold this process's turn to write; give up after the busy timeout, as SQLite would."""
    loop = asyncio.get_running_loop()
    per_loop = _sqlite_writers.get(loop)
    if per_loop is None:
        per_loop = _sqlite_writers[loop] = weakref.WeakKeyDictionary()
    lock = per_loop.get(engine)
    if lock is None:
        lock = per_loop[engine] = asyncio.Lock()
    try:
        async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
            await lock.acquire()
    except TimeoutError:
        raise TimeoutError(
            f"SQLite: waited {SQLITE_BUSY_TIMEOUT_MS / 1000:g} s for another writer"
        ) from None
    try:
        yield
    finally:
        lock.release()


async def execute_plain(session: AsyncSession, statement: Executable) -> CursorResult[Any]:
    """Run `statement` on the session's connection and transaction, past the ORM: rows come
    back as plain columns. For the engine's hot statements (claim, send gate, publish
    context), where the ORM's result and bulk-update machinery cost a tenth of the
    dispatcher's CPU in a 10,000-post burst and bought nothing."""
    connection = await session.connection()
    return await connection.execute(statement)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], *, write: bool = True
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends normally, rolled back otherwise.

    Services only flush; this is where commits happen. A read-only unit simply closes: the
    connection is reset on its way back to the pool, and the objects read stay usable after the
    block (an explicit rollback would expire them)."""
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(sessions())
        bind = session.get_bind()
        if write and bind.dialect.name == "sqlite":
            engine = bind if isinstance(bind, Engine) else bind.engine
            await stack.enter_async_context(_queued_writer(engine))
            await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            if write:
                await session.commit()
        except BaseException:
            await session.rollback()
            raise
