"""`herald worker`: the publishing engine alone, for PostgreSQL deployments (run any number)."""

from __future__ import annotations

import typer

from herald.cli._runtime import configure_logging, run_service_loop, settings_of
from herald.errors import AppError


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
    from herald.cli.worker_run import run_worker  # the engine loads only when a worker starts

    try:
        run_service_loop(run_worker(settings, metrics_port))
    except AppError as exc:  # e.g. no secret key for the credentials in the database
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
