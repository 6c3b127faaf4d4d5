"""`herald worker`: the publishing engine alone, for PostgreSQL deployments (run any number)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import typer
import uvicorn

from herald.api.context import AppContext
from herald.app import build_context, create_operations_app
from herald.cli._runtime import (
    configure_logging,
    prepare_database,
    run_service_loop,
    settings_of,
)
from herald.config import Settings
from herald.engine.dispatcher import Engine
from herald.errors import AppError


async def run_worker(settings: Settings, metrics_port: int | None = None) -> None:
    """Publish until SIGTERM or SIGINT, then stop claiming and finish or release in-flight work.
    With `metrics_port`, also serve /metrics and /healthz for this worker."""
    await prepare_database(settings)
    context = build_context(settings)
    engine = Engine(settings, context.sessions, context.secret_box)
    context.publisher = engine
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    operations = _operations_server(context, metrics_port) if metrics_port else None
    serving = asyncio.create_task(operations.serve()) if operations else None
    try:
        await engine.start()
        await stop.wait()
    finally:
        if operations is not None and serving is not None:
            operations.should_exit = True
            await serving
        await engine.stop()
        await context.engine.dispose()


def _operations_server(context: AppContext, port: int) -> uvicorn.Server:
    app = create_operations_app(context)
    config = uvicorn.Config(
        app, host=context.settings.host, port=port, log_level="warning", access_log=False
    )
    return _EmbeddedServer(config)


class _EmbeddedServer(uvicorn.Server):
    """Leaves SIGTERM and SIGINT to the worker, which stops the engine first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def worker(
    ctx: typer.Context,
    concurrency: int | None = typer.Option(
        None, help="Platform calls in flight at once [HERALD_ENGINE_CONCURRENCY, 500]."
    ),
    metrics_port: int | None = typer.Option(
        None, help="Serve this worker's /metrics and /healthz on HERALD_HOST at this port."
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
    configure_logging(settings)
    try:
        run_service_loop(run_worker(settings, metrics_port))
    except AppError as exc:  # e.g. no secret key for the credentials in the database
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
