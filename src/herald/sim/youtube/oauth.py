"""Google's OAuth 2.0 for web server apps: the consent page, the token endpoint (code and
refresh grants) and revoke [docs: developers.google.com/identity/protocols/oauth2/web-server]."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from herald.sim.youtube.http import sim_of
from herald.sim.youtube.state import CODE_TTL_S, Code

_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "access_type",
    "code_challenge",
    "code_challenge_method",
    "prompt",
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


def _refusal(params: dict[str, str], request: Request) -> HTMLResponse | None:
    """Google shows "Error 400: redirect_uri_mismatch" and the like without redirecting."""
    config = sim_of(request).config
    if params.get("client_id") != config.client_id:
        return _page("Error 401: invalid_client", "<p>The OAuth client was not found.</p>", 401)
    if params.get("redirect_uri") not in config.redirect_uris:
        return _page("Error 400: redirect_uri_mismatch", "<p>Access blocked.</p>", 400)
    if params.get("response_type") != "code" or not params.get("scope"):
        return _page("Error 400: invalid_request", "<p>Required parameter is missing.</p>", 400)
    return None


async def consent_page(request: Request) -> Response:
    """GET /o/oauth2/v2/auth: the app's name, the scopes, Allow and Cancel."""
    params = {k: request.query_params[k] for k in _PARAMS if k in request.query_params}
    refused = _refusal(params, request)
    if refused is not None:
        return refused
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in params.items()
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params["scope"].split())
    body = (
        f"<p>{html.escape(sim_of(request).config.channel_title)} wants access to:</p>"
        f"<ul>{scopes}</ul><form method='post'>{hidden}"
        "<button name='decision' value='allow'>Allow</button>"
        "<button name='decision' value='deny'>Cancel</button></form>"
    )
    return _page("Sign in with Google", body)


async def consent_decision(request: Request) -> Response:
    form = await request.form()
    params = {k: str(form[k]) for k in _PARAMS if k in form}
    refused = _refusal(params, request)
    if refused is not None:
        return refused
    state = {"state": params["state"]} if "state" in params else {}
    if form.get("decision") != "allow":
        query = urlencode({"error": "access_denied", **state})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)
    code = "4/" + secrets.token_urlsafe(32)
    sim_of(request).codes[code] = Code(
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        scope=params["scope"],
        offline=params.get("access_type") == "offline",
        challenge=params.get("code_challenge"),
        expires=time.monotonic() + CODE_TTL_S,
    )
    query = urlencode({**state, "code": code, "scope": params["scope"]})
    return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)


def _token_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def token(request: Request) -> Response:
    """POST /token (form): client_id and client_secret in the body or as HTTP Basic."""
    sim = sim_of(request)
    form = await request.form()
    client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
    scheme, _, pair = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        client_id, _, secret = base64.b64decode(pair).decode(errors="replace").partition(":")
    config = sim.config
    if client_id != config.client_id or not secrets.compare_digest(
        secret.encode(), config.client_secret.encode()
    ):
        return _token_error("invalid_client", "Unauthorized", 401)
    grant = form.get("grant_type")
    if grant == "refresh_token":
        answer = sim.refresh(str(form.get("refresh_token", "")))
        if answer is None:
            return _token_error("invalid_grant", "Token has been expired or revoked.")
        return JSONResponse(answer)
    if grant != "authorization_code":
        return _token_error("unsupported_grant_type", "Invalid grant_type: " + str(grant))
    code = sim.codes.pop(str(form.get("code", "")), None)  # single use
    if code is None or code.expires < time.monotonic() or code.client_id != client_id:
        return _token_error("invalid_grant", "Bad Request")
    if form.get("redirect_uri") != code.redirect_uri:
        return _token_error("redirect_uri_mismatch", "Bad Request")
    if code.challenge is not None:
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code.challenge:
            return _token_error("invalid_grant", "Invalid code verifier.")
    sim.stats["codes_exchanged"] += 1
    return JSONResponse(sim.issue(code.scope, code.offline))


async def revoke(request: Request) -> Response:
    """POST /revoke?token=… (or a form field): ends the grant; 400 invalid_token if unknown."""
    form = await request.form()
    value = request.query_params.get("token") or str(form.get("token", ""))
    if not sim_of(request).revoke(value):
        return _token_error("invalid_token", "Token expired or revoked")
    return JSONResponse({})
