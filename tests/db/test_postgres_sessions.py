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
