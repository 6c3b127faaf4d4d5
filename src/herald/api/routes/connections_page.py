"""The connections page a managed user's link opens (`POST /workspace/users/:id/connection-url`).

Server-rendered, no script: the accounts already connected, and a form per platform that
connects with credentials (a Bluesky app password, a Mastodon access token, a Telegram bot
token). Platforms that connect through OAuth get a link into their connect flow, made for the
managed user, when the operator has registered an app for them. Every form carries a
single-use nonce (services.connections_page), the credentials are verified with the platform
outside any transaction and stored sealed, and nothing secret is ever rendered back."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from herald.api.deps import Context
from herald.config import Settings
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import utc_now
from herald.errors import AppError
from herald.models import Connection
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.oauth.connect import connect_link
from herald.oauth.providers import PROVIDERS, NotConfiguredError
from herald.services import connection as connections
from herald.services import connections_page
from herald.services.connection_inputs import connection_input

router = APIRouter(include_in_schema=False)

# The page holds its capability in its URL: it is never cached, framed or sent as a referrer.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
# Per platform: (label, field name, input type, required).
_FORMS: dict[Platform, tuple[str, Sequence[tuple[str, str, str, bool]]]] = {
    Platform.BLUESKY: (
        "Bluesky",
        (
            ("Handle", "handle", "text", True),
            ("App password", "appPassword", "password", True),
            ("PDS URL (leave empty for bsky.social)", "pdsUrl", "url", False),
        ),
    ),
    Platform.MASTODON: (
        "Mastodon",
        (
            ("Instance URL", "instanceUrl", "url", True),
            ("Access token", "accessToken", "password", True),
        ),
    ),
    Platform.TELEGRAM: (
        "Telegram",
        (
            ("Bot token", "botToken", "password", True),
            ("Channel (@name or numeric id)", "chat", "text", True),
        ),
    ),
}
_EXPIRED = (
    "This link is not valid: it has expired or been replaced. Ask for a new one.",
    404,
)
_STALE_FORM = "This form was already sent or is out of date. Nothing was changed; try again."


def _page(body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Connect your accounts</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
        "label{display:block;margin:.5em 0}input{width:100%}"
        ".ok{color:#075e07}.error{color:#a00}</style></head><body>"
        f"{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=PAGE_HEADERS)


def _form(platform: Platform, nonce: str) -> str:
    title, fields = _FORMS[platform]
    inputs = "".join(
        f'<label>{escape(label)} <input name="{name}" type="{kind}"'
        f'{" required" if required else ""} autocomplete="off"></label>'
        for label, name, kind, required in fields
    )
    return (
        f'<section><h2>{title}</h2><form method="post" id="connect-{platform.value}">'
        f'<input type="hidden" name="form" value="{escape(nonce)}">'
        f'<input type="hidden" name="platform" value="{platform.value}">'
        f'{inputs}<button type="submit">Connect {title}</button></form></section>'
    )


def _oauth_offers(account_id: str, settings: Settings) -> str:
    """A connect link per OAuth platform with an app; the link names the managed user, so the
    account lands on them (oauth.connect). The page sends no referrer, so its token stays here."""
    offers = []
    for platform, provider in PROVIDERS.items():
        try:
            link = connect_link(account_id, platform.value, settings)
        except NotConfiguredError:
            continue  # no app registered for it: nothing to offer
        title = escape(provider.title)
        offers.append(
            f'<section><h2>{title}</h2><p><a id="connect-{platform.value}" '
            f'href="{escape(link.url)}">Connect {title}</a></p></section>'
        )
    return "".join(offers)


def _render(
    name: str, found: Sequence[Connection], nonce: str, offers: str, notice: str = ""
) -> str:
    listed = "".join(
        f'<li data-platform-id="{escape(platform_id(Platform(c.platform), c.external_id))}">'
        f"{escape(c.platform)}: {escape(c.display_name or c.username)}"
        f" ({escape(c.username)})</li>"
        for c in found
    )
    accounts = f"<ul id=accounts>{listed}</ul>" if listed else "<p id=accounts>None yet.</p>"
    return (
        f"<h1>Connect accounts for {escape(name)}</h1>{notice}"
        f"<h2>Connected</h2>{accounts}{offers}" + "".join(_form(p, nonce) for p in _FORMS)
    )


def _notice(kind: str, text: str) -> str:
    return f'<p class="{kind}" role="status" id="notice">{escape(text)}</p>'


async def _show(context: Context, token: str, notice: str = "") -> HTMLResponse:
    """Open the page (a fresh form nonce) and render it with the user's accounts."""
    links, now = connections_page.page_links(context.settings), utc_now()
    async with context.transaction() as session:
        try:
            page, user = await connections_page.open_page(session, links, token, now)
        except connections_page.LinkNotValidError:
            return _page(_notice("error", _EXPIRED[0]), _EXPIRED[1])
        nonce = connections_page.new_form(page, now)
        found = await connections.list_connections(session, user.id)
        offers = _oauth_offers(user.id, context.settings)
        return _page(_render(user.name, found, nonce, offers, notice))


@router.get(connections_page.PAGE_PATH + "{token}")
async def show_page(token: str, context: Context) -> HTMLResponse:
    return await _show(context, token)


@router.post(connections_page.PAGE_PATH + "{token}")
async def submit_page(token: str, request: Request, context: Context) -> HTMLResponse:
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return _page(_notice("error", _STALE_FORM), 400)
    try:
        fields = dict(parse_qsl((await request.body()).decode(), strict_parsing=False))
    except UnicodeDecodeError:
        return _page(_notice("error", _STALE_FORM), 400)
    links, now = connections_page.page_links(context.settings), utc_now()
    async with context.transaction() as session:
        try:
            page, user = await connections_page.open_page(session, links, token, now)
        except connections_page.LinkNotValidError:
            return _page(_notice("error", _EXPIRED[0]), _EXPIRED[1])
        spent = connections_page.spend_form(page, fields.pop("form", ""))
        account_id = user.id
    if not spent:
        return await _show(context, token, _notice("error", _STALE_FORM))
    platform = fields.pop("platform", "")
    if platform not in {p.value for p in _FORMS}:
        return await _show(context, token, _notice("error", "Choose a platform to connect."))
    try:
        wanted = connection_input(platform, {k: v for k, v in fields.items() if v})
        egress = EgressPolicy.from_settings(context.settings)
        async with one_off_client(egress, connections.VERIFY_TIMEOUT_S) as client:
            profile = await connections.verify_account(wanted, client, context.settings)
        async with context.transaction() as session:
            saved = await connections.save_connection(
                session, context.secret_box, account_id, wanted, profile
            )
            shown = f"{saved.platform}: {saved.display_name or saved.username}"
    except AppError as exc:
        return await _show(context, token, _notice("error", exc.message))
    return await _show(context, token, _notice("ok", f"Connected {shown}."))
