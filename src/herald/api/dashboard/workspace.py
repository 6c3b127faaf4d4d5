"""Workspace: the account's time zone, its API keys (create, revoke), its managed users and
their connection links, and its webhooks with their delivery logs — the API's services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from herald.api.dashboard.render import render
from herald.api.dashboard.viewer import CurrentViewer, Viewer, read_form
from herald.api.deps import Context
from herald.domain.timestamps import utc_now
from herald.errors import AppError
from herald.services import account as accounts
from herald.services import dashboard_auth, webhook, workspace
from herald.services.connections_page import page_links
from herald.store.account import AccountStore
from herald.store.dashboard_counts import api_keys

router = APIRouter(include_in_schema=False)


async def _show(context: Context, viewer: Viewer, status: int = 200, **extra: Any) -> HTMLResponse:
    async with context.transaction(write=False) as session:
        keys = await api_keys(session, viewer.account_id)
        users = (
            await workspace.list_users(session, viewer.account_id) if viewer.is_workspace else []
        )
        hooks = await webhook.list_webhooks(session, viewer.account_id)
        logs = {h.id: await webhook.delivery_log(session, viewer.account_id, h.id) for h in hooks}
    links = page_links(context.settings)
    return render(
        "workspace.html",
        viewer,
        title="Workspace",
        status=status,
        keys=keys,
        users=[(u, links.url(p) if p else None) for u, p in users],
        hooks=hooks,
        logs=logs,
        **extra,
    )


@router.get("/workspace")
async def workspace_page(context: Context, viewer: CurrentViewer) -> HTMLResponse:
    return await _show(context, viewer)


@router.post("/workspace/time-zone")
async def set_time_zone(request: Request, context: Context, viewer: CurrentViewer) -> HTMLResponse:
    fields = await read_form(request, viewer)
    try:
        zone = dashboard_auth.check_time_zone(fields.get("timeZone", "").strip())
        async with context.transaction() as session:
            account = await AccountStore(session).get(viewer.account_id)
            if account is not None:  # a deleted account's sessions went with it
                account.time_zone = zone
    except AppError as exc:
        return await _show(
            context, viewer, exc.status_code, notice=exc.message, notice_kind="error"
        )
    return await _show(context, viewer, notice=f"Times are now shown in {zone}.")


@router.post("/workspace/api-keys")
async def create_key(request: Request, context: Context, viewer: CurrentViewer) -> HTMLResponse:
    await read_form(request, viewer)
    async with context.transaction() as session:
        key, _ = await accounts.issue_api_key(session, viewer.account_id)
    return await _show(context, viewer, notice="New API key (shown once; store it now): " + key)


@router.post("/workspace/api-keys/revoke")
async def revoke_key(request: Request, context: Context, viewer: CurrentViewer) -> HTMLResponse:
    fields = await read_form(request, viewer)
    async with context.transaction() as session:
        owned = {k.id for k in await api_keys(session, viewer.account_id)}
        if fields.get("keyId") not in owned:  # another account's key is not found, as in the API
            return await _show(
                context, viewer, 404, notice="API key not found", notice_kind="error"
            )
        await accounts.revoke_api_key(session, fields.get("keyId", ""), utc_now())
    return await _show(context, viewer, notice="API key revoked.")


@router.post("/workspace/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    webhook_id: str, delivery_id: str, request: Request, context: Context, viewer: CurrentViewer
) -> HTMLResponse:
    """The API's redeliver service: a new delivery of the same event, queued at once."""
    await read_form(request, viewer)
    try:
        async with context.transaction() as session:
            await webhook.redeliver(session, viewer.account_id, webhook_id, delivery_id, utc_now())
    except AppError as exc:  # another account's webhook or delivery is not found, as in the API
        return await _show(
            context, viewer, exc.status_code, notice=exc.message, notice_kind="error"
        )
    return await _show(context, viewer, notice="Delivery queued again.")
