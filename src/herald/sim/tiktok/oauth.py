"""TikTok Login Kit for web: the consent page and the token endpoint [docs: developers.tiktok.com/
doc/login-kit-web, oauth-user-access-token-management]."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from herald.sim.tiktok.api import sim_of

_PARAMS = (
    "client_key",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _refusal(params: dict[str, str], request: Request) -> HTMLResponse | None:
    config = sim_of(request).config
    if params.get("client_key") != config.client_key:
        return HTMLResponse("<h1>client_key</h1>", status_code=400)
    if params.get("redirect_uri") not in config.redirect_uris:
        return HTMLResponse("<h1>redirect_uri</h1>", status_code=400)
    if params.get("response_type") != "code" or not params.get("scope"):
        return HTMLResponse("<h1>invalid_request</h1>", status_code=400)
    return None


async def consent_page(request: Request) -> Response:
    """GET /v2/auth/authorize/: scopes comma-separated; Authorize and Cancel."""
    params = {k: request.query_params[k] for k in _PARAMS if k in request.query_params}
    refused = _refusal(params, request)
    if refused is not None:
        return refused
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in params.items()
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params["scope"].split(","))
    return HTMLResponse(
        f"<!doctype html><title>TikTok</title><h1>Authorize app</h1><ul>{scopes}</ul>"
        f"<form method='post'>{hidden}<button name='decision' value='allow'>Authorize</button>"
        "<button name='decision' value='deny'>Cancel</button></form>"
    )


async def consent_decision(request: Request) -> Response:
    form = await request.form()
    params = {k: str(form[k]) for k in _PARAMS if k in form}
    refused = _refusal(params, request)
    if refused is not None:
        return refused
    state = {"state": params["state"]} if "state" in params else {}
    if form.get("decision") != "allow":
        query = urlencode(
            {"error": "access_denied", "error_description": "User cancelled", **state}
        )
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)
    code = secrets.token_urlsafe(24)
    sim_of(request).codes[code] = (
        params["redirect_uri"],
        params["scope"],
        params.get("code_challenge", ""),
    )
    query = urlencode({"code": code, "scopes": params["scope"], **state})
    return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)


def _error(error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description, "log_id": secrets.token_hex(16)},
        status_code=400,
    )


async def token(request: Request) -> Response:
    """POST /v2/oauth/token/ form: client_key, client_secret, grant_type (authorization_code:
    code, redirect_uri, code_verifier when a challenge was sent; refresh_token)."""
    sim = sim_of(request)
    form = await request.form()
    config = sim.config
    if form.get("client_key") != config.client_key or not secrets.compare_digest(
        str(form.get("client_secret", "")).encode(), config.client_secret.encode()
    ):
        return _error("invalid_client", "Client key or secret is incorrect.")
    grant = form.get("grant_type")
    if grant == "refresh_token":
        answer = sim.refresh(str(form.get("refresh_token", "")))
        return (
            JSONResponse(answer)
            if answer
            else _error("invalid_grant", "Refresh token is invalid or expired.")
        )
    if grant != "authorization_code":
        return _error("invalid_request", "grant_type is invalid.")
    found = sim.codes.pop(str(form.get("code", "")), None)
    if found is None or form.get("redirect_uri") != found[0]:
        return _error("invalid_grant", "Authorization code is expired.")
    if found[2]:
        digest = hashlib.sha256(str(form.get("code_verifier", "")).encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != found[2]:
            return _error("invalid_grant", "Code verifier is invalid.")
    sim.stats["codes_exchanged"] += 1
    return JSONResponse(sim.issue(found[1]))
