"""`herald worker`: the publishing engine alone, for PostgreSQL deployments (run any number)."""

from __future__ import annotations

import asyncio
import logging
import signal

import typer

from herald.cli._runtime import prepare_database, settings_of
from herald.config import Settings
from herald.db.engine import create_engine, create_session_factory
from herald.engine.dispatcher import Engine
from herald.services.secret_box import load_secret_box


async def run_worker(settings: Settings) -> None:
    """Publish until SIGTERM or SIGINT, then stop claiming and finish or release in-flight work."""
    await prepare_database(settings)
    database = create_engine(settings.resolved_database_url)
    engine = Engine(settings, create_session_factory(database), load_secret_box(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await engine.start()
        await stop.wait()
    finally:
        await engine.stop()
        await database.dispose()


def worker(
    ctx: typer.Context,
    concurrency: int | None = typer.Option(
        None, help="Platform calls in flight at once [HERALD_ENGINE_CONCURRENCY, 500]."
    ),
) -> None:
    """Run the publishing engine without the API (scale-out: PostgreSQL required)."""
    settings = settings_of(ctx)
    if concurrency is not None:
        settings = settings.model_copy(update={"engine_concurrency": concurrency})
    if settings.is_sqlite:
        typer.echo(
            "error: `herald worker` needs PostgreSQL (HERALD_DATABASE_URL); with SQLite the engine "
            "runs inside `herald serve`.",
            err=True,
        )
        raise typer.Exit(2)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    asyncio.run(run_worker(settings))
