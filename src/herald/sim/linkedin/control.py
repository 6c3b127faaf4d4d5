"""The LinkedIn simulator's own /_sim/ routes beyond the shared ones."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.sim.control import control_routes
from herald.sim.faults import error_response
from herald.sim.linkedin.config import Member, wire
from herald.sim.linkedin.http import sim_of
from herald.sim.linkedin.oauth import SCOPES, token_answer


async def mint(request: Request) -> Response:
    """POST /_sim/tokens {"sub"?, "client_id"?, "scope"?, "expires_in"?}: a token without the
    consent page, answered as the token endpoint would."""
    sim = sim_of(request)
    body = await request.json()
    member = sim.members.get(body.get("sub") or next(iter(sim.members)))
    app = sim.apps.get(body.get("client_id") or next(iter(sim.apps)))
    scope = tuple(str(body.get("scope", "openid profile w_member_social")).split())
    if member is None or app is None or not set(scope) <= SCOPES:
        return error_response(422, "invalid_token_request", "unknown member, app or scope")
    token, grant = sim.issue(app, member, scope, body.get("expires_in"))
    return JSONResponse(token_answer(token, grant.expires_at, scope))


async def add_member(request: Request) -> Response:
    """POST /_sim/members {"sub", "given_name"?, "family_name"?}: a member who can sign in."""
    body = await request.json()
    sub = body.get("sub") if isinstance(body, dict) else None
    if not isinstance(sub, str) or not sub.isalnum():
        return error_response(422, "invalid_member", "sub must be letters and digits")
    member = Member(sub, str(body.get("given_name", sub)), str(body.get("family_name", "")))
    sim_of(request).members[sub] = member
    return JSONResponse({"sub": member.sub, "name": member.name, "urn": member.urn})


async def posts(request: Request) -> Response:
    sim = sim_of(request)
    return JSONResponse(
        {
            "posts": [
                {
                    "urn": p.urn,
                    "author": p.author,
                    "body": p.body,
                    "createdAt": p.created_ms,
                    "comments": p.comments,
                    "reactions": p.reactions,
                }
                for p in sim.posts.values()
            ]
        }
    )


async def assets(request: Request) -> Response:
    sim = sim_of(request)
    return JSONResponse(
        {
            "assets": [
                {
                    "urn": a.urn,
                    "kind": a.kind,
                    "owner": a.owner,
                    "size": a.size,
                    "parts": len(a.parts),
                    "status": a.status,
                }
                for a in sim.assets.values()
            ]
        }
    )


async def requests(request: Request) -> Response:
    return JSONResponse({"requests": sim_of(request).requests})


CONTROL_ROUTES = [
    *control_routes(sim_of, wire),
    Route("/_sim/tokens", mint, methods=["POST"]),
    Route("/_sim/members", add_member, methods=["POST"]),
    Route("/_sim/posts", posts, methods=["GET"]),
    Route("/_sim/assets", assets, methods=["GET"]),
    Route("/_sim/requests", requests, methods=["GET"]),
]
