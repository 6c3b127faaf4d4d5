"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from herald.config import Settings
from herald.db.base import Base
from herald.db.engine import create_engine
from herald.db.migrate import migrate


def _differences(settings: Settings) -> tuple[list[Any], set[str]]:
    async def compare() -> tuple[list[Any], set[str]]:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with engine.connect() as connection:

                def inspect_sync(sync: Any) -> tuple[list[Any], set[str]]:
                    context = MigrationContext.configure(sync, opts={"compare_type": True})
                    return compare_metadata(context, Base.metadata), set(
                        inspect(sync).get_table_names()
                    )

                return await connection.run_sync(inspect_sync)
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def test_migrated_schema_matches_the_models(database: Settings) -> None:
    differences, tables = _differences(database)
    assert differences == []
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrating_again_is_a_no_op(database: Settings) -> None:
    asyncio.run(migrate(database.resolved_database_url))
    assert _differences(database)[0] == []


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    asyncio.run(migrate(settings.resolved_database_url))

    async def pragmas() -> tuple[str, int, int]:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with engine.connect() as connection:
                mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
                sync = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar_one()
                keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
                return str(mode), int(sync), int(keys)
        finally:
            await engine.dispose()

    assert asyncio.run(pragmas()) == ("wal", 2, 1)
