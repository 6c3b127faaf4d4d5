"""GET /connect/<platform> and its callback: connecting an account through OAuth in a browser.

Pages, not API: they answer HTML (what happened and what to do), outside /api/v1 and its key.
Who may start is decided by the signed link (`oauth.connect.connect_link`) the command line and
POST /api/v1/platform-connections hand out.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from herald.api.connect_pages import PAGE_HEADERS, connected_page, failure_page, message_page
from herald.api.deps import Context
from herald.domain.platform import Platform, platform_id
from herald.errors import AppError
from herald.oauth import connect as flow
from herald.oauth.providers import oauth_platform
from herald.services import connection as connections

router = APIRouter(include_in_schema=False)
# Query parameters the callback reads; anything longer is not from a platform.
_MAX_PARAM = 2048


@router.get("/connect/{platform}")
async def start_connect(platform: str, request: Request, context: Context) -> Response:
    known = oauth_platform(platform)
    if known is None:
        return message_page(
            "Unknown platform", f"{platform!r} is not connected through OAuth.", 404
        )
    link = request.query_params.get("link", "")
    try:
        account_id = flow.read_link(link, known, context.settings)
        target = await flow.start(
            context.sessions, context.secret_box, context.settings, account_id, known.value
        )
    except flow.ConnectError as failure:
        return failure_page(failure)
    except AppError as exc:  # no app configured, or the account is gone
        return message_page("Cannot connect", exc.message, 503 if exc.status_code == 400 else 404)
    return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)


@router.get("/connect/{platform}/callback")
async def finish_connect(platform: str, request: Request, context: Context) -> HTMLResponse:
    known = oauth_platform(platform)
    if known is None or known.value != platform:
        return message_page(
            "Unknown platform", f"{platform!r} is not connected through OAuth.", 404
        )
    params = {
        key: value[:_MAX_PARAM]
        for key in ("state", "code", "error", "error_description")
        if (value := request.query_params.get(key))
    }
    try:
        connected = await flow.finish(
            context.sessions, context.secret_box, context.settings, platform, params
        )
    except flow.ConnectError as failure:
        return failure_page(failure)
    except AppError as exc:
        return message_page("Cannot connect", exc.message, 503 if exc.status_code == 400 else 404)
    context.wake_publisher()  # posts held for a re-authorisation may go now
    async with context.transaction(write=False) as session:
        listed = await connections.list_connections(session, connected.account_id)
        rows = [(platform_id(Platform(c.platform), c.external_id), c.username) for c in listed]
    return connected_page(connected.platform_id, connected.username, rows)
