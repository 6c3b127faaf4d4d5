"""What every command shares: settings from the global options, a migrated database, output."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from herald.config import Settings
from herald.db.engine import create_engine, create_session_factory, unit_of_work
from herald.db.migrate import migrate
from herald.errors import AppError
from herald.keys import SecretKeyError, load_key_ring, missing_key_file
from herald.private_files import make_private_dir, tighten_data_dir
from herald.services.key_rotation import count_sealed_credentials
from herald.services.secret_box import SecretBox, load_secret_box

T = TypeVar("T")


def settings_of(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


async def prepare_database(settings: Settings) -> None:
    """Owner-only data dir, migrated database, and a secret key to seal credentials with."""
    database = _sqlite_file(settings)
    if settings.is_sqlite:
        make_private_dir(settings.data_dir)
    tighten_data_dir(settings.data_dir, database)
    await migrate(settings.resolved_database_url)
    await _ensure_secret_key(settings)


def _sqlite_file(settings: Settings) -> Path | None:
    if not settings.is_sqlite:
        return None
    name = make_url(settings.resolved_database_url).database
    return Path(name) if name and name != ":memory:" else None


async def _ensure_secret_key(settings: Settings) -> None:
    """Generate the key on a first start, but never beside credentials sealed under another
    one: a data dir or database restored without its key would otherwise get a new key at
    once, and every connection would be lost for good."""
    missing = missing_key_file(settings)
    if missing is None:
        return
    engine = create_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(create_session_factory(engine), write=False) as session:
            sealed = await count_sealed_credentials(session)
    finally:
        await engine.dispose()
    if sealed:
        plural = "" if sealed == 1 else "s"
        raise SecretKeyError(
            f"no secret key at {missing}, but the database holds {sealed} sealed "
            f"credential{plural}: restore the key file from where it is kept, or set "
            "HERALD_SECRET_KEY_FILE or HERALD_SECRET_KEY; a new key could not open them"
        )
    load_key_ring(settings)  # generates it


async def migrated_transaction(
    settings: Settings, work: Callable[[AsyncSession, SecretBox], Awaitable[T]]
) -> T:
    """Migrate, then run `work` in one unit of work on a short-lived engine."""
    await prepare_database(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            return await work(session, load_secret_box(settings))
    finally:
        await engine.dispose()


def run_in_transaction(
    settings: Settings,
    work: Callable[[AsyncSession, SecretBox], Awaitable[T]],
    *,
    as_json: bool = False,
) -> T:
    """Migrate, then run one unit of work; failures as `run_reporting_errors` reports them."""
    return run_reporting_errors(lambda: migrated_transaction(settings, work), as_json=as_json)


def run_reporting_errors(main: Callable[[], Coroutine[Any, Any, T]], *, as_json: bool = False) -> T:
    """Run `main`. An AppError becomes a message on stderr (and with --json also
    `{"error", "code"}` on stdout) and exit code 1."""
    try:
        return asyncio.run(main())
    except AppError as exc:
        if as_json:
            sys.stdout.write(json.dumps({"error": exc.message, "code": exc.code}) + "\n")
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


def freeze_startup_heap() -> None:
    """Put every object alive after start-up (modules, classes, the app, the pools) out of the
    garbage collector's sight. A full collection otherwise walks that whole heap and stalls the
    event loop: 80–90 ms for the 160,000 objects of `herald serve`, measured on the 2-core VM,
    which was most of list-posts' slowest answers. What requests and publishing allocate is
    still collected as before."""
    gc.collect()
    gc.freeze()


def run_service_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a long-lived process (`herald worker`) on uvloop where it is installed, as uvicorn
    does for `herald serve`: its event loop is a tenth of a publishing burst's CPU."""
    try:
        import uvloop
    except ImportError:  # Windows: no uvloop build
        return asyncio.run(main)
    return uvloop.run(main)


def emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    """With --json exactly one JSON object on stdout; otherwise a line for people."""
    if as_json:
        sys.stdout.write(json.dumps(payload) + "\n")
    else:
        typer.echo(human)


JSON_OPTION = typer.Option(False, "--json", help="Print exactly one JSON object.")


# Libraries whose INFO lines carry whole request URLs, and a Telegram Bot API URL carries the bot
# token (`/bot<token>/sendMessage`): they log only warnings, whatever HERALD_LOG_LEVEL says.
URL_LOGGING_LIBRARIES = ("aiohttp",)


def configure_logging(settings: Settings) -> None:
    """One line per record on stderr at HERALD_LOG_LEVEL, without secrets from request URLs."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    for name in URL_LOGGING_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
