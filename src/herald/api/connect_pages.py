"""The pages a person sees at the end of connecting an account: what happened, what to do."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from fastapi.responses import HTMLResponse

from herald.oauth.connect import ConnectError
from herald.oauth.providers import PROVIDERS

# The callback URL holds a code and a state: no referrer, no cache, no framing, no scripts.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
_AGAIN = "Open the connect link again to start over"
_NEW_LINK = (
    "Ask for a new link: <code>herald connections connect {alias} --account ID</code> on the "
    "server, or <code>POST /api/v1/platform-connections</code> with "
    '<code>{{"platform": "{wire}"}}</code>'
)

# kind: (status, title, what happened, what to do); {title} is the platform's name, {detail}
# what the platform said, {again}/{new_link} the usual ways on.
_FAILURES: dict[str, tuple[int, str, str, str]] = {
    "bad_link": (
        400,
        "This connect link is not valid",
        "Herald did not make this link, or it was changed on the way.",
        "{new_link}.",
    ),
    "link_expired": (
        400,
        "This connect link has expired",
        "Connect links work for a limited time.",
        "{new_link}.",
    ),
    "denied": (
        400,
        "{title} access was not allowed",
        "You chose not to let Herald use your {title} account, so nothing was connected and "
        "nothing was stored.",
        "To connect it after all, {again_lower} and choose to authorize the app.",
    ),
    "refused": (
        400,
        "{title} did not authorize Herald",
        "{title} answered with an error ({detail}). Nothing was stored.",
        "{again}. If it happens again, the operator should check the {title} app's settings "
        "(callback URL and permissions) against the README.",
    ),
    "bad_state": (
        400,
        "This answer cannot be checked",
        "The page came back without a state Herald made, so it was ignored. Nothing was stored.",
        "{again}.",
    ),
    "state_expired": (
        400,
        "Connecting took too long",
        "The approval came back after the time Herald allows. Nothing was stored.",
        "{again} and approve within a few minutes.",
    ),
    "replayed": (
        400,
        "This approval was already used",
        "Each approval can be used once, and this one was (a reloaded page or a repeated "
        "request). Nothing more was stored.",
        "If the account is not connected yet, {again_lower}.",
    ),
    "exchange": (
        502,
        "{title} did not complete the connection",
        "Herald could not exchange the approval for a token ({detail}). Nothing was stored.",
        "{again}. If it happens again, the operator should check the {title} client id, "
        "secret and callback URL in Herald's settings.",
    ),
    "profile": (
        502,
        "{title} did not share the account's profile",
        "The approval worked, but reading the account's profile failed ({detail}). Nothing "
        "was stored.",
        "{again} in a few minutes.",
    ),
    "unavailable": (
        503,
        "Herald cannot publish to {title} yet",
        "This Herald has no connector for {title}. Nothing was stored.",
        "Ask the operator to update Herald.",
    ),
}


def failure_page(failure: ConnectError) -> HTMLResponse:
    status, title, happened, todo = _FAILURES[failure.kind]
    provider = PROVIDERS.get(failure.platform)
    words = {
        "title": provider.title if provider else failure.platform.value,
        "detail": escape(failure.detail or "no detail given"),
        "again": _AGAIN,
        "again_lower": _AGAIN[0].lower() + _AGAIN[1:],
        "new_link": _NEW_LINK.format(
            alias="x" if failure.platform.value == "twitter" else failure.platform.value,
            wire=failure.platform.value,
        ),
    }
    return page(
        title.format(**words),
        [happened.format(**words), todo.format(**words)],  # trusted text; detail escaped
        status,
    )


def message_page(title: str, message: str, status: int) -> HTMLResponse:
    return page(escape(title), [escape(message)], status)


def connected_page(
    platform_id: str, username: str, listed: Sequence[tuple[str, str]]
) -> HTMLResponse:
    rows = "".join(f"<li><code>{escape(pid)}</code> {escape(name)}</li>" for pid, name in listed)
    return page(
        "Account connected",
        [
            f"<code>{escape(platform_id)}</code> ({escape(username)}) is connected to Herald. "
            "You can close this page.",
            f'This account\'s connections:</p><ul id="connections">{rows}</ul><p>',
        ],
        200,
    )


def page(title: str, paragraphs: Sequence[str], status: int) -> HTMLResponse:
    """`title` and `paragraphs` are HTML already escaped by the caller."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} · Herald</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;"
        "padding:0 1rem;line-height:1.5}code{background:#f2f2f2;padding:0 .2em}</style>"
        f"</head><body><h1>{title}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
