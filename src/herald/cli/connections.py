"""`herald connections`: connect, list and remove social accounts."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from herald.cli._runtime import (
    JSON_OPTION,
    emit,
    migrated_transaction,
    run_in_transaction,
    run_reporting_errors,
    settings_of,
)
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import format_timestamp
from herald.errors import NotFoundError, ValidationError
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.oauth.connect import connect_link
from herald.oauth.providers import oauth_platform
from herald.services import connection as connections
from herald.services.connection_inputs import connection_input
from herald.services.secret_box import SecretBox
from herald.store.account import AccountStore

# Errors about a field name the flag that sets it.
FLAG_NAMES = {
    "handle": "--handle",
    "appPassword": "--app-password",
    "pdsUrl": "--pds",
    "instanceUrl": "--instance",
    "accessToken": "--token",
    "botToken": "--bot-token",
    "chat": "--chat",
    "apiUrl": "--api-url",
    "baseUrl": "--base-url",
}

connections_app = typer.Typer(help="Manage connected social accounts.", no_args_is_help=True)


@connections_app.command("add")
def add_connection(
    ctx: typer.Context,
    platform: str = typer.Argument(
        ..., help="bluesky, mastodon, telegram or sandbox (X: `connections connect x`)."
    ),
    account: str = typer.Option(..., "--account", help="Account id that owns the connection."),
    handle: str | None = typer.Option(None, "--handle", help="Bluesky: handle or DID."),
    app_password: str | None = typer.Option(
        None,
        "--app-password",
        envvar="HERALD_BLUESKY_APP_PASSWORD",
        help="Bluesky: an app password (Settings > App passwords), never the main password.",
    ),
    pds: str | None = typer.Option(
        None, "--pds", help="Bluesky: the account's PDS (default https://bsky.social)."
    ),
    instance: str | None = typer.Option(
        None, "--instance", help="Mastodon: the instance URL (https://mastodon.social)."
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="HERALD_MASTODON_TOKEN", help="Mastodon: an access token."
    ),
    bot_token: str | None = typer.Option(
        None, "--bot-token", envvar="HERALD_TELEGRAM_BOT_TOKEN", help="Telegram: the bot token."
    ),
    chat: str | None = typer.Option(
        None, "--chat", help="Telegram: @channelname or a numeric chat id (-100...)."
    ),
    api_url: str | None = typer.Option(
        None, "--api-url", help="Telegram: Bot API server (default https://api.telegram.org)."
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="Sandbox: the simulator's URL; only Herald's own unless "
        "HERALD_SANDBOX_ALLOW_ANY_URL=true.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect a social account: the platform checks the credentials first, then the profile
    and the encrypted credentials are stored. Prints the connection's platform id."""
    fields = {
        "handle": handle,
        "appPassword": app_password,
        "pdsUrl": pds,
        "instanceUrl": instance,
        "accessToken": token,
        "botToken": bot_token,
        "chat": chat,
        "apiUrl": api_url,
        "baseUrl": base_url,
    }
    settings = settings_of(ctx)

    async def connect() -> dict[str, Any]:
        if oauth_platform(platform) is not None:
            raise ValidationError(
                f"{platform} is connected in a browser: run `herald connections connect "
                f"{platform} --account {account}` and open the link it prints",
                code="OAUTH_PLATFORM",
            )
        request = connection_input(platform, fields, FLAG_NAMES)
        egress = EgressPolicy.from_settings(settings)
        async with one_off_client(egress, connections.VERIFY_TIMEOUT_S) as client:
            profile = await connections.verify_account(request, client, settings)

        async def save(session: AsyncSession, box: SecretBox) -> dict[str, Any]:
            saved = await connections.save_connection(session, box, account, request, profile)
            return {
                "platformId": platform_id(Platform(saved.platform), saved.external_id),
                "username": saved.username,
                "displayName": saved.display_name,
            }

        return await migrated_transaction(settings, save)

    added = run_reporting_errors(connect, as_json=as_json)
    emit(as_json, added, f"connected {added['platformId']} ({added['username']})")


@connections_app.command("connect")
def connect_through_browser(
    ctx: typer.Context,
    platform: str = typer.Argument(..., help="A platform connected through OAuth: x (twitter)."),
    account: str = typer.Option(..., "--account", help="Account id that will own it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the link that connects an account through the platform's consent page: open it
    in a browser (anyone holding it can connect their account to this Herald account until it
    expires), approve, and the connection appears in `herald connections list`."""
    settings = settings_of(ctx)

    async def work(session: AsyncSession, _box: SecretBox) -> dict[str, Any]:
        link = connect_link(account, platform, settings)  # first: says when no app is set
        if await AccountStore(session).get(account) is None:
            raise NotFoundError("Account not found", code="ACCOUNT_NOT_FOUND")
        return {"url": link.url, "tokenExpiresAt": format_timestamp(link.expires_at)}

    made = run_in_transaction(settings, work, as_json=as_json)
    emit(
        as_json,
        made,
        f"Open this link in a browser to connect the account (until {made['tokenExpiresAt']}):"
        f"\n{made['url']}",
    )


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
