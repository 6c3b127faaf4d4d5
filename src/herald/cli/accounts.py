"""`herald accounts` and `herald keys`."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from herald.cli._runtime import (
    JSON_OPTION,
    emit,
    run_in_transaction,
    settings_of,
)
from herald.domain.timestamps import format_timestamp, utc_now
from herald.errors import AppError
from herald.services import account as accounts
from herald.services import dashboard_auth
from herald.services.secret_box import SecretBox

accounts_app = typer.Typer(help="Manage accounts (tenants).", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@accounts_app.command("create")
def create_account(
    ctx: typer.Context,
    name: str,
    workspace: bool = typer.Option(False, "--workspace", help="May manage users."),
    email: str | None = typer.Option(None, "--email", help="Signs in to the dashboard."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an account and print its id."""

    async def work(session: AsyncSession, _box: SecretBox) -> str:
        account = await accounts.create_account(session, name, workspace=workspace)
        if email is not None:
            await dashboard_auth.set_email(session, account.id, email)
        return account.id

    account_id = run_in_transaction(settings_of(ctx), work, as_json=as_json)
    emit(as_json, {"accountId": account_id}, f"account {account_id} created")


@accounts_app.command("list")
def list_accounts(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List every account, managed users included."""

    async def work(session: AsyncSession, _box: SecretBox) -> list[dict[str, object]]:
        return [
            {
                "accountId": a.id,
                "name": a.name,
                "email": a.email,
                "workspace": a.is_workspace,
                "parentId": a.parent_id,
                "createdAt": format_timestamp(a.created_at),
            }
            for a in await accounts.list_accounts(session)
        ]

    rows = run_in_transaction(settings_of(ctx), work, as_json=as_json)
    lines = [
        f"{r['accountId']}  {r['name']}" + ("  (workspace)" if r["workspace"] else "") for r in rows
    ]
    emit(as_json, {"accounts": rows}, "\n".join(lines) or "no accounts")


@keys_app.command("create")
def create_key(ctx: typer.Context, account_id: str, as_json: bool = JSON_OPTION) -> None:
    """Create an API key for an account; the key is printed once and never stored."""

    async def work(session: AsyncSession, _box: SecretBox) -> tuple[str, str]:
        key, record = await accounts.issue_api_key(session, account_id)
        return key, record.id

    key, key_id = run_in_transaction(settings_of(ctx), work, as_json=as_json)
    emit(
        as_json,
        {"accountId": account_id, "keyId": key_id, "apiKey": key},
        f"API key {key_id}: {key}\n(shown once; store it now)",
    )


@keys_app.command("revoke")
def revoke_key(ctx: typer.Context, key_id: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke an API key at once."""

    async def work(session: AsyncSession, _box: SecretBox) -> str:
        return (await accounts.revoke_api_key(session, key_id, utc_now())).id

    revoked = run_in_transaction(settings_of(ctx), work, as_json=as_json)
    emit(as_json, {"keyId": revoked, "revoked": True}, f"API key {revoked} revoked")


@accounts_app.command("set-password")
def set_password(
    ctx: typer.Context,
    account_id: str,
    email: str | None = typer.Option(None, "--email", help="Also set the sign-in email."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Set the password an account signs in to the dashboard with (argon2id)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        hashed = dashboard_auth.hash_password(password)
    except AppError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc

    async def work(session: AsyncSession, _box: SecretBox) -> None:
        if email is not None:
            await dashboard_auth.set_email(session, account_id, email)
        await dashboard_auth.set_password(session, account_id, hashed)

    run_in_transaction(settings_of(ctx), work, as_json=False)
    typer.echo(f"password set for account {account_id}")


@accounts_app.command("sign-in-link")
def sign_in_link(ctx: typer.Context, account_id: str, as_json: bool = JSON_OPTION) -> None:
    """Print a dashboard sign-in link for an account: it works once, within an hour."""
    settings = settings_of(ctx)

    async def work(session: AsyncSession, _box: SecretBox) -> str:
        return await dashboard_auth.issue_sign_in_link(session, account_id, utc_now())

    token = run_in_transaction(settings, work, as_json=as_json)
    site = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    url = f"{site}/sign-in/{token}"
    emit(as_json, {"accountId": account_id, "url": url}, url)
