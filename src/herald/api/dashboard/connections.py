"""Connections: the accounts connected with their token health, a connect button per OAuth
platform with an app, forms for the credential platforms, reconnect and disconnect — through
the same services as POST/DELETE /platform-connections."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from herald.api.dashboard.render import render
from herald.api.dashboard.viewer import CurrentViewer, Viewer, read_form
from herald.api.deps import Context
from herald.api.schemas.connection import connection_read
from herald.domain.timestamps import utc_now
from herald.errors import AppError
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.oauth.connect import connect_link
from herald.oauth.providers import PROVIDERS, NotConfiguredError
from herald.services import connection as connections
from herald.services.connection_inputs import connection_input

router = APIRouter(include_in_schema=False)
# Per platform: its title and fields (label, name, input type, required).
FORMS: dict[str, tuple[str, tuple[tuple[str, str, str, bool], ...]]] = {
    "bluesky": (
        "Bluesky",
        (
            ("Handle", "handle", "text", True),
            ("App password", "appPassword", "password", True),
            ("PDS URL (empty for bsky.social)", "pdsUrl", "url", False),
        ),
    ),
    "mastodon": (
        "Mastodon",
        (
            ("Instance URL", "instanceUrl", "url", True),
            ("Access token", "accessToken", "password", True),
        ),
    ),
    "telegram": (
        "Telegram",
        (
            ("Bot token", "botToken", "password", True),
            ("Channel (@name or numeric id)", "chat", "text", True),
        ),
    ),
}


def _offers(viewer: Viewer, context: Context) -> list[tuple[str, str]]:
    offers = []
    for platform, provider in PROVIDERS.items():
        try:
            offers.append(
                (
                    provider.title,
                    connect_link(viewer.account_id, platform.value, context.settings).url,
                )
            )
        except NotConfiguredError:
            continue  # no app registered for it: nothing to offer
    return offers


async def _show(context: Context, viewer: Viewer, status: int = 200, **notice: Any) -> HTMLResponse:
    now = utc_now()
    async with context.transaction(write=False) as session:
        found = await connections.list_connections(session, viewer.account_id)
    return render(
        "connections.html",
        viewer,
        title="Connections",
        status=status,
        connections=[connection_read(c, now) for c in found],
        offers=_offers(viewer, context),
        forms=FORMS,
        **notice,
    )


@router.get("/connections")
async def connections_page(context: Context, viewer: CurrentViewer) -> HTMLResponse:
    return await _show(context, viewer)


@router.post("/connections")
async def connect(request: Request, context: Context, viewer: CurrentViewer) -> HTMLResponse:
    fields = await read_form(request, viewer)
    platform = fields.get("platform", "")
    if platform not in FORMS:
        return await _show(
            context, viewer, 400, notice="Choose a platform to connect.", notice_kind="error"
        )
    names = {name for _, name, _, _ in FORMS[platform][1]}
    try:
        wanted = connection_input(platform, {k: v for k, v in fields.items() if k in names and v})
        egress = EgressPolicy.from_settings(context.settings)
        async with one_off_client(egress, connections.VERIFY_TIMEOUT_S) as client:
            profile = await connections.verify_account(wanted, client, context.settings)
        async with context.transaction() as session:
            saved = await connections.save_connection(
                session, context.secret_box, viewer.account_id, wanted, profile
            )
            shown = f"{saved.platform}: {saved.display_name or saved.username}"
    except AppError as exc:
        return await _show(
            context, viewer, exc.status_code, notice=exc.message, notice_kind="error"
        )
    return await _show(context, viewer, notice=f"Connected {shown}.")


@router.post("/connections/disconnect")
async def disconnect(request: Request, context: Context, viewer: CurrentViewer) -> HTMLResponse:
    fields = await read_form(request, viewer)
    try:
        async with context.transaction() as session:
            gone = await connections.remove_connection(
                session, fields.get("platformId", ""), viewer.account_id
            )
    except AppError as exc:
        return await _show(
            context, viewer, exc.status_code, notice=exc.message, notice_kind="error"
        )
    return await _show(context, viewer, notice=f"Disconnected {gone.platform}: {gone.username}.")
