"""Who is looking at a dashboard page: the session cookie's account, and its CSRF token.

The cookie is HttpOnly and SameSite=Lax, and Secure whenever Herald is reached over https (or
its public URL is https). Every change is a POST whose form (or header) carries the session's
CSRF token; a page without a session sends the browser to the sign-in page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import ImmutableMultiDict

from herald.api.deps import Context
from herald.domain.timestamps import utc_now
from herald.services.auth import Principal
from herald.services.dashboard_auth import SESSION_TTL, csrf_matches, find_session
from herald.store.account import AccountStore

COOKIE = "herald_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 256 * 1024


class SignInRequiredError(Exception):
    """A page was asked for without a live session."""


class CsrfRefusedError(Exception):
    """A change came without the session's CSRF token (or not as a form)."""


@dataclass(frozen=True)
class Viewer:
    account_id: str
    name: str
    is_workspace: bool
    time_zone: str
    csrf: str

    @property
    def principal(self) -> Principal:
        """The same principal an API key of this account gets: the same tenant rules."""
        return Principal(self.account_id, self.account_id, self.is_workspace)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


async def signed_in(request: Request, context: Context) -> Viewer:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequiredError
    async with context.transaction(write=False) as session:
        found = await find_session(session, token, utc_now())
        account = await AccountStore(session).get(found.account_id) if found else None
    if found is None or account is None:
        raise SignInRequiredError
    return Viewer(
        account.id, account.name, account.is_workspace, account.time_zone or "UTC", found.csrf
    )


CurrentViewer = Annotated[Viewer, Depends(signed_in)]


async def read_form(request: Request, viewer: Viewer) -> ImmutableMultiDict[str, str]:
    """A url-encoded form whose CSRF token is the session's; raises CsrfRefusedError otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise CsrfRefusedError
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise CsrfRefusedError
    try:
        fields = ImmutableMultiDict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise CsrfRefusedError from exc
    sent = fields.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not csrf_matches(viewer.csrf, sent):
        raise CsrfRefusedError
    return fields


def is_secure(request: Request, public_url: str | None) -> bool:
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
