"""Migrations run on a database that already holds rows: an empty database of either backend,
and an upgrade to any revision, for tests that populate the schema as older code left it."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from herald.config import Settings
from herald.db.engine import create_engine
from herald.db.migrate import MIGRATIONS_DIR

ADMIN = os.environ.get("HERALD_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


async def upgrade(url: str, revision: str) -> None:
    engine = create_engine(url)

    def run(sync: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = sync
        command.upgrade(config, revision)

    try:
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
    finally:
        await engine.dispose()


@asynccontextmanager
async def empty_database(settings: Settings, tmp_path: Path) -> AsyncIterator[str]:
    if settings.is_sqlite:
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"herald_test_migration_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
