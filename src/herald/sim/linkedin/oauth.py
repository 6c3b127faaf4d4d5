"""LinkedIn's 3-legged OAuth (consent page, accessToken), OpenID userinfo and the member's
company-page roles."""

from __future__ import annotations

import html
import secrets
import time
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from herald.sim.linkedin.http import LinkedInError, enter, sim_of
from herald.sim.linkedin.state import Pending

SCOPES = frozenset(
    {
        "openid",
        "profile",
        "email",
        "w_member_social",
        "w_organization_social",
        "r_organization_social",
        "r_organization_admin",
        "rw_organization_admin",
    }
)
CODE_TTL_S = 1800.0  # [docs] an authorization code lives 30 minutes
BAD_CODE = (
    "invalid_request",
    "Unable to retrieve access token: appid/redirect uri/code "
    "verifier does not match authorization code. Or authorization code expired.",
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>{html.escape(title)}</title>{body}", status)


async def authorize_page(request: Request) -> Response:
    """GET /oauth/v2/authorization: consent, one checkbox per scope (a member may untick
    one), or an error page for a wrong client or redirect URI."""
    sim, query = sim_of(request), request.query_params
    app = sim.apps.get(query.get("client_id", ""))
    if app is None or query.get("redirect_uri", "") not in app.redirect_uris:
        return _page("Error", "<p>The redirect_uri does not match the registered value</p>", 400)
    scope = tuple(query.get("scope", "").replace(",", " ").split())
    if query.get("response_type") != "code" or not scope or not set(scope) <= SCOPES:
        return _page("Error", "<p>unauthorized_scope_error or bad response_type</p>", 400)
    handle = secrets.token_urlsafe(16)
    member = next(iter(sim.members.values()))
    sim.pending[handle] = Pending(app, member, query["redirect_uri"], scope, time.time() + 600)
    state = html.escape(query.get("state", ""))
    boxes = "".join(
        f'<label><input type="checkbox" name="scope" value="{html.escape(s)}" checked>'
        f"{html.escape(s)}</label>"
        for s in scope
    )
    members = "".join(
        f'<option value="{html.escape(m.sub)}">{html.escape(m.name)}</option>'
        for m in sim.members.values()
    )
    body = (
        f"<h1>{html.escape(app.name)} would like to access your LinkedIn account</h1>"
        f'<form method="post"><input type="hidden" name="handle" value="{handle}">'
        f'<input type="hidden" name="state" value="{state}">'
        f'<select name="member">{members}</select>{boxes}'
        '<button name="decision" value="allow">Allow</button>'
        '<button name="decision" value="cancel">Cancel</button></form>'
    )
    return _page("LinkedIn", body)


async def authorize_decision(request: Request) -> Response:
    sim = sim_of(request)
    form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    fields = dict(form)
    pending = sim.pending.pop(fields.get("handle", ""), None)
    if pending is None:
        return _page("Error", "<p>This page has expired</p>", 400)
    state = fields.get("state", "")
    if fields.get("decision") != "allow":
        query = {
            "error": "user_cancelled_authorize",
            "error_description": "The user cancelled the authorization",
            "state": state,
        }
        return RedirectResponse(f"{pending.redirect_uri}?{urlencode(query)}", 302)
    pending.member = sim.members.get(fields.get("member", ""), pending.member)
    ticked = {value for name, value in form if name == "scope"}
    pending.scope = tuple(s for s in pending.scope if s in ticked)
    pending.expires_at = time.time() + CODE_TTL_S
    code = "AQT" + secrets.token_urlsafe(32)
    sim.codes[code] = pending
    sim.stats["consents"] += 1
    return RedirectResponse(
        f"{pending.redirect_uri}?{urlencode({'code': code, 'state': state})}", 302
    )


def _token_error(error: str, description: str, status: int = 400) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def access_token(request: Request) -> Response:
    """POST /oauth/v2/accessToken: client id and secret in the form; a code works once."""
    sim = sim_of(request)
    fields = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    app = sim.apps.get(fields.get("client_id", ""))
    if app is None or not secrets.compare_digest(
        fields.get("client_secret", "").encode(), app.client_secret.encode()
    ):
        return _token_error("invalid_client", "Client authentication failed", 401)
    if fields.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type", "Unsupported grant type")
    pending = sim.codes.pop(fields.get("code", ""), None)
    if (
        pending is None
        or pending.app is not app
        or pending.expires_at < time.time()
        or pending.redirect_uri != fields.get("redirect_uri")
    ):
        return _token_error(*BAD_CODE)
    token, grant = sim.issue(app, pending.member, pending.scope)
    sim.stats["codes_exchanged"] += 1
    return JSONResponse(token_answer(token, grant.expires_at, pending.scope))


def token_answer(token: str, expires_at: float, scope: tuple[str, ...]) -> dict[str, object]:
    # [docs] no refresh_token for apps outside the partner programme; scopes comma-separated
    return {
        "access_token": token,
        "expires_in": int(expires_at - time.time()),
        "scope": ",".join(scope),
        "token_type": "Bearer",
    }


async def userinfo(request: Request) -> Response:
    """GET /v2/userinfo (openid profile): the OpenID claims; unversioned."""
    grant = await enter(request, "openid", "profile", versioned=False)
    member = grant.member
    return JSONResponse(
        {
            "sub": member.sub,
            "name": member.name,
            "given_name": member.given_name,
            "family_name": member.family_name,
            "picture": member.picture,
            "locale": {"country": "US", "language": "en"},
        }
    )


async def organization_acls(request: Request) -> Response:
    """GET /rest/organizationAcls?q=roleAssignee[&role=ADMINISTRATOR&state=APPROVED]."""
    grant = await enter(request)
    if request.query_params.get("q") != "roleAssignee":
        raise LinkedInError(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")
    if not {"rw_organization_admin", "r_organization_admin", "w_organization_social"} & set(
        grant.scope
    ):
        raise LinkedInError(
            403, "Not enough permissions to access: organizationAcls", "ACCESS_DENIED", 100
        )
    sim = sim_of(request)
    elements = [
        {
            "role": "ADMINISTRATOR",
            "state": "APPROVED",
            "organization": org.urn,
            "roleAssignee": grant.member.urn,
        }
        for org in sim.organizations.values()
        if grant.member.sub in org.administrators
    ]
    return JSONResponse(
        {"elements": elements, "paging": {"count": len(elements), "start": 0, "links": []}}
    )


async def organization(request: Request) -> Response:
    """GET /rest/organizations/{id}: name and vanity name."""
    await enter(request)
    raw = request.path_params["id"]
    org = sim_of(request).organizations.get(int(raw)) if raw.isdigit() else None
    if org is None:
        raise LinkedInError(404, f"Organization {raw} not found", "NOT_FOUND")
    return JSONResponse(
        {"id": org.id, "localizedName": org.name, "vanityName": org.vanity_name, "$URN": org.urn}
    )
