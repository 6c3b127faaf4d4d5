"""Alembic environment: runs on the connection handed over by herald.db.migrate, or on the URL
from the alembic.ini / HERALD_DATABASE_URL when invoked from the alembic command line."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import herald.models  # noqa: F401  (registers every table on Base.metadata)
from herald.config import Settings
from herald.db.base import Base
from herald.db.engine import create_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


existing = context.config.attributes.get("connection")
if existing is not None:
    _run(existing)
else:
    asyncio.run(_run_from_url(Settings().resolved_database_url))
