"""`herald secrets`: rotate the secret key with no downtime, re-seal, prune old keys, status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.cli._runtime import (
    JSON_OPTION,
    emit,
    prepare_database,
    run_reporting_errors,
    settings_of,
)
from herald.config import Settings
from herald.db.engine import create_engine, create_session_factory
from herald.errors import ConflictError
from herald.key_file import write_key_file
from herald.keys import KeyRing, SecretKeyError, load_key_ring
from herald.services.key_rotation import BATCH_SIZE, ResealReport, census, reseal_all
from herald.services.secret_box import SecretBox

T = TypeVar("T")

secrets_app = typer.Typer(
    help="Rotate the secret key that seals platform credentials.", no_args_is_help=True
)
BATCH_OPTION = typer.Option(BATCH_SIZE, "--batch-size", min=1, help="Credentials per transaction.")


@secrets_app.command("status")
def status(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Where the keys come from, and how many credentials each key opens."""

    async def work(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> dict[str, Any]:
        counts = await census(sessions, box)
        return {**_source(box.ring), "credentials": counts.per_key, "unreadable": counts.unreadable}

    shown = run_reporting_errors(lambda: _with_box(settings_of(ctx), work), as_json=as_json)
    per_key = ", ".join(f"{n} under key {i}" for i, n in enumerate(shown["credentials"], 1))
    where = shown.get("keyFile") or "HERALD_SECRET_KEY"
    unreadable = f", {shown['unreadable']} that no key opens" if shown["unreadable"] else ""
    emit(
        as_json,
        shown,
        f"{_plural(shown['keys'], 'key')} from {where}; key 1 seals\n"
        f"credentials: {per_key}{unreadable}",
    )


@secrets_app.command("rotate")
def rotate(
    ctx: typer.Context,
    no_reseal: bool = typer.Option(
        False,
        "--no-reseal",
        help="Only add the key: for a key file copied to other hosts, copy it there first, "
        "then run `herald secrets reseal`.",
    ),
    batch_size: int = BATCH_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Make a new key the one that seals (older keys keep opening), then re-seal every
    credential under it. With HERALD_SECRET_KEY, print the new value to set instead."""
    settings = settings_of(ctx)

    async def main() -> dict[str, Any]:
        await prepare_database(settings)
        ring = load_key_ring(settings)
        keys = [Fernet.generate_key(), *ring.keys]
        if ring.key_file is None:
            value = b",".join(keys).decode()
            return {"secretKey": value, "keys": len(keys), "resealed": 0, "unreadable": 0}
        _write(ring.key_file, keys)
        box = SecretBox(ring.refreshed())
        report = ResealReport() if no_reseal else await _reseal(settings, box, batch_size)
        return {**_counts(box.ring, report), "unreadable": report.unreadable}

    rotated = run_reporting_errors(main, as_json=as_json)
    if "secretKey" in rotated:
        human = (
            "HERALD_SECRET_KEY comes from the environment, so nothing was written. Its new "
            f"value, the new key first:\nHERALD_SECRET_KEY={rotated['secretKey']}\nGive it "
            "to every Herald process and restart them (with several processes, first roll out "
            "the same keys with the new one last, so that every process opens what the new key "
            "seals), then run `herald secrets reseal` and `herald secrets prune` with it."
        )
    else:
        human = (
            f"{rotated['keyFile']}: a new key seals from now on, the older ones still open; "
            f"{_resealed(rotated)}. Once no process reads an older copy of this file, "
            "`herald secrets prune` removes the older keys."
        )
    emit(as_json, rotated, human)


@secrets_app.command("reseal")
def reseal(ctx: typer.Context, batch_size: int = BATCH_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Re-seal every credential that an older key sealed under the first key."""

    async def work(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> dict[str, Any]:
        report = await reseal_all(sessions, box, batch_size)
        return {
            "keys": len(box.ring.keys),
            "resealed": report.resealed,
            "unreadable": report.unreadable,
        }

    done = run_reporting_errors(lambda: _with_box(settings_of(ctx), work), as_json=as_json)
    emit(as_json, done, _resealed(done))


@secrets_app.command("prune")
def prune(ctx: typer.Context, batch_size: int = BATCH_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Keep only the key that seals, once no credential needs another (checked first)."""

    async def work(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> dict[str, Any]:
        ring = box.ring
        # Anything sealed since the rotation by a process still sealing under an older key.
        report = await reseal_all(sessions, box, batch_size)
        left = (await census(sessions, box, batch_size)).under_old_keys
        if left:
            raise ConflictError(
                f"{left} credentials were sealed under an older key meanwhile, by a process "
                "that does not have the new key yet; prune again once every process has it",
                code="SECRET_KEY_STILL_USED",
            )
        removed = len(ring.keys) - 1
        if ring.key_file is None:
            value = ring.primary.decode()
            return {"secretKey": value, "removed": removed, "resealed": report.resealed}
        if removed or not ring.key_file.exists():
            _write(ring.key_file, [ring.primary])
        _remove_legacy(ring)
        return {**_counts(KeyRing((ring.primary,), ring.key_file), report), "removed": removed}

    pruned = run_reporting_errors(lambda: _with_box(settings_of(ctx), work), as_json=as_json)
    if "secretKey" in pruned:
        human = f"Set HERALD_SECRET_KEY={pruned['secretKey']} for every Herald process."
    else:
        human = f"{pruned['keyFile']}: {_plural(pruned['removed'], 'older key')} removed"
    emit(as_json, pruned, human)


async def _with_box(
    settings: Settings,
    work: Callable[[async_sessionmaker[AsyncSession], SecretBox], Awaitable[T]],
) -> T:
    await prepare_database(settings)
    box = SecretBox(load_key_ring(settings))
    engine = create_engine(settings.resolved_database_url)
    try:
        return await work(create_session_factory(engine), box)
    finally:
        await engine.dispose()


async def _reseal(settings: Settings, box: SecretBox, batch_size: int) -> ResealReport:
    engine = create_engine(settings.resolved_database_url)
    try:
        return await reseal_all(create_session_factory(engine), box, batch_size)
    finally:
        await engine.dispose()


def _write(path: Path, keys: list[bytes]) -> None:
    try:
        write_key_file(path, keys)
    except OSError as exc:
        raise SecretKeyError(f"cannot write the key file {path}: {type(exc).__name__}") from None


def _remove_legacy(ring: KeyRing) -> None:
    """After a prune the key file holds every key needed: an older install's copy inside the
    data dir goes, so backups of the data dir stop carrying a key."""
    legacy = ring.legacy_file
    if legacy is None or ring.key_file is None or not legacy.exists():
        return
    if legacy.resolve() != ring.key_file.resolve():
        legacy.unlink()


def _source(ring: KeyRing) -> dict[str, Any]:
    if ring.key_file is None:
        return {"source": "environment", "keyFile": None, "keys": len(ring.keys)}
    return {"source": "file", "keyFile": str(ring.key_file), "keys": len(ring.keys)}


def _counts(ring: KeyRing, report: ResealReport) -> dict[str, Any]:
    return {"keyFile": str(ring.key_file), "keys": len(ring.keys), "resealed": report.resealed}


def _resealed(result: dict[str, Any]) -> str:
    unreadable = result.get("unreadable", 0)
    lost = f", {unreadable} that no key opens (connect those accounts again)" if unreadable else ""
    return f"{_plural(result['resealed'], 'credential')} re-sealed{lost}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
