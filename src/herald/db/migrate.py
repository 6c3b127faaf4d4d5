"""Apply the Alembic migrations to a database; run at every start and by the test fixtures."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from herald.db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def migrate(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (the newest by default); a no-op when it is already there.
    Tests and benches name an older one to hold data as older code left it."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), revision))
            await connection.commit()
    finally:
        await engine.dispose()
