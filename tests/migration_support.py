"""An empty database of either backend, for tests that migrate it to an older revision
(`herald.db.migrate.migrate`), populate it as older code left it, and upgrade."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from herald.config import Settings

ADMIN = os.environ.get("HERALD_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


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
