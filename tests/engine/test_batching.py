"""Group commit: each caller gets its own result, and one failing write spoils no other."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text

from herald.engine.batching import WriteBatcher
from support import LiveServer


def test_each_write_gets_its_own_result_and_failures_stay_local(server: LiveServer) -> None:
    async def scenario() -> list[Any]:
        batcher = WriteBatcher(server.context.sessions, max_delay=0.01)
        batcher.start()

        def write(value: int) -> Any:
            async def run(session: Any) -> int:
                if value == 3:
                    await session.execute(text("SELECT * FROM no_such_table"))
                await session.execute(
                    text(
                        "INSERT INTO account (id, name, is_workspace, created_at) "
                        "VALUES (:id, :name, false, CURRENT_TIMESTAMP)"
                    ),
                    {"id": f"{value:024x}", "name": f"batch {value}"},
                )
                return value * 10

            return run

        try:
            return await asyncio.gather(
                *(batcher.run(write(value)) for value in range(6)), return_exceptions=True
            )
        finally:
            await batcher.stop()

    results = server.run(scenario())
    assert [r for i, r in enumerate(results) if i != 3] == [0, 10, 20, 40, 50]
    assert isinstance(results[3], Exception)

    async def names(session: Any) -> list[str]:
        rows = await session.execute(text("SELECT name FROM account ORDER BY name"))
        return [row[0] for row in rows]

    assert server.transaction(names) == [f"batch {v}" for v in (0, 1, 2, 4, 5)]


@pytest.mark.parametrize("size", [1, 250])
def test_many_writes_share_few_transactions(server: LiveServer, size: int) -> None:
    commits: list[int] = []

    def count(_connection: Any) -> None:
        commits.append(1)

    engine = server.context.engine.sync_engine
    event.listen(engine, "commit", count)

    async def scenario() -> list[int]:
        batcher = WriteBatcher(server.context.sessions, max_delay=0.01)
        batcher.start()

        async def one(session: Any) -> int:
            return int((await session.execute(text("SELECT 1"))).scalar_one())

        try:
            return await asyncio.gather(*(batcher.run(one) for _ in range(size)))
        finally:
            await batcher.stop()

    try:
        assert server.run(scenario()) == [1] * size
    finally:
        event.remove(engine, "commit", count)
    assert 1 <= len(commits) <= max(1, size // 50)
