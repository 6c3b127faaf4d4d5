"""Signing in and out: a password form, one-time sign-in links, and the session cookie.

Password sign-in is rate limited per client address and per email (a sliding window held in
this process), and a refusal never tells which of the two was wrong."""

from __future__ import annotations

import time
from collections import deque
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from herald.api.dashboard.render import render
from herald.api.dashboard.viewer import (
    COOKIE,
    CurrentViewer,
    is_secure,
    read_form,
    set_session_cookie,
)
from herald.api.deps import Context
from herald.domain.timestamps import utc_now
from herald.services import dashboard_auth

router = APIRouter(include_in_schema=False)
ATTEMPTS = 10  # per window, per address and per email
WINDOW_S = 300.0
_WRONG = "That email and password do not match an account."
_LINK_SPENT = "This sign-in link has been used or has expired. Ask for a new one."


class SignInLimiter:
    """Failed and successful attempts alike count, so guessing is slow for everyone."""

    def __init__(self, attempts: int = ATTEMPTS, window_s: float = WINDOW_S) -> None:
        self._attempts, self._window = attempts, window_s
        self._seen: dict[str, deque[float]] = {}

    def allow(self, *keys: str) -> bool:
        now = time.monotonic()
        allowed = True
        for key in keys:
            stamps = self._seen.setdefault(key, deque())
            while stamps and stamps[0] <= now - self._window:
                stamps.popleft()
            allowed = allowed and len(stamps) < self._attempts
            stamps.append(now)
        if len(self._seen) > 10_000:  # forget idle keys rather than grow without end
            self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self._window}
        return allowed


LIMITER = SignInLimiter()


def _signed_in(request: Request, context: Context, token: str) -> Response:
    response = RedirectResponse("/calendar", status_code=303)
    set_session_cookie(response, token, secure=is_secure(request, context.settings.public_url))
    return response


@router.get("/sign-in")
async def sign_in_page() -> HTMLResponse:
    return render("sign_in.html", None, title="Sign in")


@router.post("/sign-in")
async def sign_in(request: Request, context: Context) -> Response:
    body = (await request.body())[:4096]
    try:
        fields = dict(parse_qsl(body.decode()))
    except UnicodeDecodeError:
        fields = {}
    email, password = fields.get("email", ""), fields.get("password", "")
    client = request.client.host if request.client else "unknown"
    if not LIMITER.allow("ip:" + client, "email:" + email.strip().lower()):
        message = "Too many sign-in attempts. Wait a few minutes and try again."
        return render(
            "sign_in.html", None, title="Sign in", status=429, notice=message, notice_kind="error"
        )
    async with context.transaction(write=False) as session:
        account_id = await dashboard_auth.password_matches(session, email, password)
    if account_id is None:
        return render(
            "sign_in.html", None, title="Sign in", status=401, notice=_WRONG, notice_kind="error"
        )
    async with context.transaction() as session:
        token, _ = await dashboard_auth.start_session(session, account_id, utc_now())
    return _signed_in(request, context, token)


@router.get("/sign-in/{link}")
async def sign_in_with_link(link: str, request: Request, context: Context) -> Response:
    now = utc_now()
    async with context.transaction() as session:
        account_id = await dashboard_auth.redeem_sign_in_link(session, link[:100], now)
        if account_id is None:
            return render(
                "sign_in.html",
                None,
                title="Sign in",
                status=404,
                notice=_LINK_SPENT,
                notice_kind="error",
            )
        token, _ = await dashboard_auth.start_session(session, account_id, now)
    return _signed_in(request, context, token)


@router.post("/sign-out")
async def sign_out(request: Request, context: Context, viewer: CurrentViewer) -> Response:
    await read_form(request, viewer)
    async with context.transaction() as session:
        await dashboard_auth.end_session(session, request.cookies.get(COOKIE, ""), utc_now())
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
