"""`herald connections`: connect, list and remove social accounts."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from herald.cli._runtime import JSON_OPTION, emit, run_in_transaction, settings_of
from herald.domain.platform import Platform, platform_id
from herald.services import connection as connections
from herald.services.secret_box import SecretBox

connections_app = typer.Typer(help="Manage connected social accounts.", no_args_is_help=True)


@connections_app.command("add")
def add_connection(
    ctx: typer.Context,
    platform: str,
    account: str = typer.Option(..., "--account", help="Account id that owns the connection."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Override the platform's API base URL (e.g. a simulator)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect a social account. Only `sandbox` (no credentials) is available so far."""
    options: dict[str, Any] = {"baseUrl": base_url} if base_url else {}

    async def work(session: AsyncSession, box: SecretBox) -> str:
        connection = await connections.add_connection(session, box, account, platform, options)
        return platform_id(Platform(connection.platform), connection.external_id)

    public_id = run_in_transaction(settings_of(ctx), work, as_json=as_json)
    emit(as_json, {"platformId": public_id}, f"connected {public_id}")


@connections_app.command("list")
def list_connections(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List every connection with the account that owns it."""

    async def work(session: AsyncSession, _box: SecretBox) -> list[dict[str, Any]]:
        return [
            {
                "platformId": platform_id(Platform(c.platform), c.external_id),
                "platform": c.platform,
                "accountId": owner.id,
                "username": c.username,
                "status": c.status,
            }
            for c, owner in await connections.list_all_connections(session)
        ]

    rows = run_in_transaction(settings_of(ctx), work, as_json=as_json)
    lines = [f"{r['platformId']}  account={r['accountId']}  {r['username']}" for r in rows]
    emit(as_json, {"connections": rows}, "\n".join(lines) or "no connections")


@connections_app.command("remove")
def remove_connection(
    ctx: typer.Context,
    platform_id_arg: str = typer.Argument(..., metavar="PLATFORM_ID"),
    account: str | None = typer.Option(
        None, "--account", help="Needed when several accounts connected the same profile."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove a connection; its posts keep their history."""

    async def work(session: AsyncSession, _box: SecretBox) -> str:
        await connections.remove_connection(session, platform_id_arg, account)
        return platform_id_arg

    removed = run_in_transaction(settings_of(ctx), work, as_json=as_json)
    emit(as_json, {"platformId": removed, "removed": True}, f"removed {removed}")
