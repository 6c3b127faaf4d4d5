"""The `herald` command: global options and the command groups."""

from __future__ import annotations

from pathlib import Path

import typer

from herald.cli.accounts import accounts_app, keys_app
from herald.cli.connections import connections_app
from herald.cli.secrets import secrets_app
from herald.cli.serve import serve
from herald.cli.sim import sim
from herald.cli.worker import worker
from herald.config import Settings
from herald.private_files import restrict_new_files

app = typer.Typer(
    help="Herald: self-hosted social media scheduling with a Publora-compatible API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(connections_app, name="connections")
app.add_typer(secrets_app, name="secrets")
app.command("serve")(serve)
app.command("worker")(worker)
app.command("sim")(sim)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Data directory [HERALD_DATA_DIR, ./herald-data]."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Database URL [HERALD_DATABASE_URL, SQLite in the data dir]."
    ),
) -> None:
    # Before any command opens a file: the database, its WAL, media and keys are the owner's.
    restrict_new_files()
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})
    ctx.obj = settings


def run() -> None:
    app()
