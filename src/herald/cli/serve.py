"""`herald serve`: migrate, create the first account on an empty install, serve the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from herald.cli._runtime import (
    configure_logging,
    freeze_startup_heap,
    migrated_transaction,
    run_reporting_errors,
    settings_of,
)
from herald.config import Settings
from herald.keys import load_key_ring

if TYPE_CHECKING:
    from herald.services.bootstrap import Bootstrap


def _announce(created: Bootstrap, settings: Settings) -> None:
    # Printed to the terminal once, never logged: the key is not stored anywhere readable.
    base = f"http://{settings.host}:{settings.port}/api/v1"
    site = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    key_file = load_key_ring(settings).key_file
    typer.echo(
        "\nHerald created your account on this first start.\n"
        f"  account id:  {created.account_id}\n"
        f"  API key:     {created.api_key}   (shown once; store it now)\n"
        f"  platform id: {created.platform_id}   (a sandbox connection)\n"
        f"  dashboard:   {site}/\n"
        f"  sign in:     {site}/sign-in/{created.sign_in_token}   (works once, within an hour)\n"
        f"  API:         {base}\n"
        f"  secret key:  {key_file or 'HERALD_SECRET_KEY'}   (seals credentials; back it up "
        "apart from the data dir)\n"
    )


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Bind address [HERALD_HOST, 127.0.0.1]."),
    port: int | None = typer.Option(None, help="Port [HERALD_PORT, 8080]."),
    no_engine: bool = typer.Option(
        False,
        "--no-engine",
        help="Serve the API only, for API replicas (publishing runs elsewhere).",
    ),
) -> None:
    """Serve the API (and, by default, the publishing engine) until interrupted."""
    # Imported here, not above: every other command would pay for loading the whole API.
    import uvicorn

    from herald.app import create_app
    from herald.services.bootstrap import bootstrap_if_empty

    settings = settings_of(ctx).model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    )
    created = run_reporting_errors(lambda: migrated_transaction(settings, bootstrap_if_empty))
    if created is not None:
        _announce(created, settings)
    configure_logging(settings)
    config = uvicorn.Config(
        create_app(settings, run_engine=not no_engine),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
    )
    freeze_startup_heap()
    uvicorn.Server(config).run()
