"""X's OAuth 2.0 endpoints: the consent screen, the token endpoint and revocation."""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from herald.sim.faults import hold
from herald.sim.x.config import SCOPES, XApp
from herald.sim.x.consent import consent_page, error_page
from herald.sim.x.http import sim_of
from herald.sim.x.state import TOKEN_REFUSALS, Authorization, XSim
from herald.sim.x.tokens import PKCE_METHODS, GrantError

MAX_STATE = 500  # X: "The length of this string can be up to 500 characters."
NO_CLIENT = ("unauthorized_client", "Missing valid authorization header")
BAD_GRANT_TYPE = ("unsupported_grant_type", "Value passed for the grant_type was invalid.")


async def authorize_page(request: Request) -> Response:
    """GET /i/oauth2/authorize: the consent screen, or an error page (never a redirect) when
    the client, redirect URI or any other parameter is wrong."""
    sim, query = sim_of(request), request.query_params
    app = sim.apps.get(query.get("client_id", ""))
    if app is None:
        return error_page("unknown client_id")
    redirect_uri = query.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris:  # exact match, as X requires
        return error_page("redirect_uri does not match a callback URL of the app")
    scope = tuple(query.get("scope", "").split())
    problem = _authorize_problem(
        query.get("response_type"), scope, query.get("state"), query.get("code_challenge")
    )
    method = query.get("code_challenge_method", "plain")
    if problem is None and method not in PKCE_METHODS:
        problem = "code_challenge_method must be S256 or plain"
    if problem is not None:
        return error_page(problem)
    pending = Authorization(
        app, redirect_uri, scope, query["state"], query["code_challenge"], method
    )
    return consent_page(app.name, scope, sim.users.values(), sim.remember(pending))


def _authorize_problem(
    response_type: str | None, scope: tuple[str, ...], state: str | None, challenge: str | None
) -> str | None:
    if response_type != "code":
        return "response_type must be code"
    if not scope or not set(scope) <= SCOPES:
        return "scope must name known scopes"
    if not state or len(state) > MAX_STATE:
        return f"state must be 1 to {MAX_STATE} characters"
    if not challenge:
        return "code_challenge is required"
    return None


async def authorize_decision(request: Request) -> Response:
    """POST /i/oauth2/authorize: the consent form's answer. Approve sends the browser back with
    `code` and `state`; Deny with `error=access_denied` and `state`."""
    sim = sim_of(request)
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    pending = sim.pending.pop(form.get("request_id", ""), None)
    if pending is None:
        return error_page("this authorization request has been answered or has expired")
    if form.get("decision") != "approve":
        sim.stats.denials += 1
        return _back(pending, {"error": "access_denied", "state": pending.state})
    user = sim.users.get(form.get("user_id", ""))
    if user is None:
        return error_page("unknown user")
    sim.stats.consents += 1
    grant = sim.grant(user, pending.app.client_id, pending.scope)
    code = sim.tokens.issue_code(
        grant, pending.redirect_uri, pending.challenge, pending.method, sim.config.code_ttl_s
    )
    return _back(pending, {"state": pending.state, "code": code})


def _back(pending: Authorization, params: dict[str, str]) -> Response:
    joiner = "&" if "?" in pending.redirect_uri else "?"
    return RedirectResponse(f"{pending.redirect_uri}{joiner}{urlencode(params)}", 302)


async def token(request: Request) -> Response:
    """POST /2/oauth2/token: grant_type authorization_code (with PKCE) or refresh_token."""
    sim = sim_of(request)
    await asyncio.sleep(sim.injector.latency_s(sim.config.common))
    fault = sim.next_token_fault()
    if fault is not None:
        sim.stats.token_faults += 1
    if fault in TOKEN_REFUSALS:
        return await _token_refusal(request, sim, fault)
    form = await _form(request)
    try:
        answer = _grant(sim, _client(sim, request, form), form)
    except GrantError as exc:
        sim.tokens.stats.refused += 1
        return _grant_error(exc)
    if fault == "lost_response":  # the grant happened: a rotated refresh token is spent
        await hold(request, sim.config.common.hang_s)
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


def _grant(sim: XSim, app: XApp, form: dict[str, str]) -> dict[str, Any]:
    grant_type, ttl = _required(form, "grant_type"), sim.config.access_token_ttl_s
    if grant_type == "authorization_code":
        code, redirect_uri, verifier = (
            _required(form, name) for name in ("code", "redirect_uri", "code_verifier")
        )
        return sim.tokens.exchange_code(code, app.client_id, redirect_uri, verifier, ttl)
    if grant_type == "refresh_token":
        return sim.tokens.refresh(_required(form, "refresh_token"), app.client_id, ttl)
    raise GrantError(*BAD_GRANT_TYPE)


async def revoke(request: Request) -> Response:
    """POST /2/oauth2/revoke: ends an access or refresh token of the calling app."""
    sim = sim_of(request)
    form = await _form(request)
    try:
        app = _client(sim, request, form)
        sim.tokens.revoke(_required(form, "token"), app.client_id)
    except GrantError as exc:
        return _grant_error(exc)
    return JSONResponse({"revoked": True})


async def _token_refusal(request: Request, sim: XSim, fault: str | None) -> Response:
    """A scripted token-endpoint fault that grants nothing: 429, or 503 at once or after
    holding the request."""
    if fault == "rate_limit":
        return _plain_problem(429, "Too Many Requests")
    if fault == "timeout":
        await hold(request, sim.config.common.hang_s)
    return _plain_problem(503, "Service Unavailable")


def _plain_problem(status: int, title: str) -> Response:
    body = {"title": title, "detail": title, "type": "about:blank", "status": status}
    return JSONResponse(body, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def _client(sim: XSim, request: Request, form: dict[str, str]) -> XApp:
    """The calling app: HTTP Basic for a confidential client (required), else the body's
    client_id for a public one."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            pair = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise GrantError(*NO_CLIENT) from None
        client_id, _, secret = (unquote_plus(part) for part in pair.partition(":"))
        app = sim.apps.get(client_id)
        known = app.client_secret if app is not None else None
        if (
            app is None
            or known is None
            or not secrets.compare_digest(known.encode(), secret.encode())
        ):
            raise GrantError(*NO_CLIENT)
        return app
    app = sim.apps.get(form.get("client_id", ""))
    if app is None or app.client_secret is not None:  # a confidential app must use Basic
        raise GrantError(*NO_CLIENT)
    return app


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise GrantError("invalid_request", f"Missing required parameter [{name}].")
    return value


def _grant_error(exc: GrantError) -> Response:
    status = 401 if exc.error == "unauthorized_client" else 400
    body = {"error": exc.error, "error_description": exc.description}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
