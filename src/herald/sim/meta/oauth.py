"""Meta's logins in the simulator: the Facebook Login dialog and the Threads authorize page
(one consent page each way), the code exchanges, short- to long-lived exchanges and the
Threads refresh."""

from __future__ import annotations

import html
import secrets
import time
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from herald.sim.meta.http import GraphError, enter, params_of, respond, sim_of
from herald.sim.meta.state import MetaSim, Token

# A Threads token may be refreshed once it is a day old [docs].
REFRESH_AFTER_S = 86400


def _check_app(sim: MetaSim, params: dict[str, str], *, secret: bool) -> None:
    if params.get("client_id") != sim.config.app_id:
        raise GraphError(400, 101, "Error validating application. Invalid application ID.")
    if secret and params.get("client_secret") != sim.config.app_secret:
        raise GraphError(400, 1, "Error validating client secret.", kind="OAuthException")


def _check_redirect(sim: MetaSim, redirect: str) -> None:
    if redirect not in sim.config.redirect_uris:
        raise GraphError(
            400,
            191,
            "Can't load URL: The domain of this URL isn't included in the app's domains.",
        )


async def consent_page(request: Request) -> Response:
    """GET /dialog/oauth (Facebook) or /oauth/authorize (Threads): a page naming the app and
    scopes with a user select and Approve/Deny; a bad app or redirect is an error page."""
    sim = sim_of(request)
    params = dict(request.query_params)
    try:
        _check_app(sim, params, secret=False)
        _check_redirect(sim, params.get("redirect_uri", ""))
    except GraphError as exc:
        return HTMLResponse(f"<h1>Error</h1><p>{html.escape(str(exc))}</p>", status_code=400)
    users = "".join(
        f'<option value="{html.escape(u.id)}">{html.escape(u.name)}</option>'
        for u in sim.config.users
    )
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k in {"client_id", "redirect_uri", "state", "scope"}
    )
    page = (
        f"<h1>{html.escape(sim.config.app_id)} asks for {html.escape(params.get('scope', ''))}"
        f'</h1><form method="post">{hidden}<select name="user_id">{users}</select>'
        '<button name="decision" value="approve">Continue</button>'
        '<button name="decision" value="deny">Cancel</button></form>'
    )
    return HTMLResponse(page)


async def consent_decision(request: Request) -> Response:
    sim = sim_of(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    redirect = form.get("redirect_uri", "")
    _check_redirect(sim, redirect)
    state = form.get("state", "")
    if form.get("decision") != "approve":
        query = {"error": "access_denied", "error_reason": "user_denied", "state": state}
        return RedirectResponse(f"{redirect}?{urlencode(query)}", status_code=302)
    user = sim.user(form.get("user_id", ""))
    if user is None:
        raise GraphError(400, 100, "(#100) Unknown user")
    code = secrets.token_urlsafe(24)
    host = "threads" if request.url.path.startswith("/oauth/authorize") else "facebook"
    sim.codes[code] = (user, redirect, host)
    return RedirectResponse(f"{redirect}?{urlencode({'code': code, 'state': state})}", 302)


def _redeem(sim: MetaSim, params: dict[str, str], host: str) -> Token:
    code = params.get("code", "")
    held = sim.codes.pop(code, None)
    if held is None or held[2] != host or held[1] != params.get("redirect_uri"):
        raise GraphError(400, 100, "Invalid verification code format.", subcode=36007)
    user = held[0]
    sim.stats.token_exchanges += 1
    return sim.mint("user" if host == "facebook" else "threads", user, long_lived=False)


def _token_answer(sim: MetaSim, token: Token, **extra: object) -> Response:
    answer: dict[str, object] = {"access_token": token.value, "token_type": "bearer", **extra}
    if token.expires_at is not None:
        answer["expires_in"] = int(token.expires_at - time.time())
    return respond(answer)


async def graph_access_token(request: Request) -> Response:
    """GET /oauth/access_token: a code for a short-lived user token, or grant_type
    fb_exchange_token for a long-lived one (60 days)."""
    sim = sim_of(request)
    params = await params_of(request)
    _check_app(sim, params, secret=True)
    if params.get("grant_type") == "fb_exchange_token":
        old = sim.live_token(params.get("fb_exchange_token", ""))
        if old is None or old.kind != "user":
            raise GraphError(400, 190, "Error validating access token: invalid token")
        sim.stats.token_exchanges += 1
        return _token_answer(sim, sim.mint("user", old.user, long_lived=True))
    return _token_answer(sim, _redeem(sim, params, "facebook"))


async def threads_access_token(request: Request) -> Response:
    """POST /oauth/access_token (Threads): the code for a short-lived token and the user id."""
    sim = sim_of(request)
    params = await params_of(request)
    _check_app(sim, params, secret=True)
    if params.get("grant_type") != "authorization_code":
        raise GraphError(400, 100, "(#100) Invalid grant_type")
    token = _redeem(sim, params, "threads")
    return respond({"access_token": token.value, "user_id": token.user.threads_id})


async def threads_exchange(request: Request) -> Response:
    """GET /access_token?grant_type=th_exchange_token: a short-lived Threads token for a
    long-lived one (60 days)."""
    sim = sim_of(request)
    params = await params_of(request)
    if params.get("client_secret") != sim.config.app_secret:
        raise GraphError(400, 1, "Error validating client secret.")
    if params.get("grant_type") != "th_exchange_token":
        raise GraphError(400, 100, "(#100) Invalid grant_type")
    old = await enter(request, params, "threads")
    sim.stats.token_exchanges += 1
    return _token_answer(sim, sim.mint("threads", old.user, long_lived=True))


async def threads_refresh(request: Request) -> Response:
    """GET /refresh_access_token?grant_type=th_refresh_token: a long-lived token at least a
    day old (and not expired) for a new one; the old one keeps working until it expires."""
    sim = sim_of(request)
    params = await params_of(request)
    if params.get("grant_type") != "th_refresh_token":
        raise GraphError(400, 100, "(#100) Invalid grant_type")
    old = await enter(request, params, "threads")
    if not old.long_lived:
        raise GraphError(400, 190, "Error validating access token: not a long-lived token")
    if time.time() - old.issued_at < REFRESH_AFTER_S:
        # Not a dead token: it works on, and may be renewed once it is a day old [chosen].
        raise GraphError(400, 100, "(#100) The access token is too new to be refreshed")
    sim.stats.refreshes += 1
    return _token_answer(sim, sim.mint("threads", old.user, long_lived=True))
