"""The Meta simulator's own control endpoints under /_sim/: tokens minted without a browser,
what was created (containers and published media), and the shared config/script/stats/reset."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.sim.control import control_routes
from herald.sim.faults import error_response
from herald.sim.meta.config import MetaPage, meta_config_wire
from herald.sim.meta.http import sim_of


async def sim_tokens(request: Request) -> Response:
    """{"user_id", "kind": "user" | "threads", "long_lived"?: true, "age_s"?: 0}: a token as
    the login would give it (`age_s` back-dates it, for refresh tests)."""
    sim = sim_of(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return error_response(422, "invalid_body", "body must be a JSON object")
    user = sim.user(str(body.get("user_id", "")))
    kind = body.get("kind", "user")
    if user is None or kind not in {"user", "threads"}:
        return error_response(422, "invalid_body", "unknown user_id or kind")
    token = sim.mint(kind, user, long_lived=bool(body.get("long_lived", True)))
    age = body.get("age_s", 0)
    if isinstance(age, int | float) and not isinstance(age, bool) and age > 0:
        token.issued_at -= age
    answer: dict[str, Any] = {"access_token": token.value, "user_id": user.id}
    if kind == "threads":
        answer["user_id"] = user.threads_id
    if token.expires_at is not None:
        answer["expires_at"] = token.expires_at
    return JSONResponse(answer)


async def sim_age_tokens(request: Request) -> Response:
    """{"seconds"}: every token was issued that much earlier (its expiry stays), so a Threads
    token can be renewed without waiting a day."""
    sim = sim_of(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        return error_response(422, "invalid_body", "seconds must be a non-negative number")
    for token in sim.tokens.values():
        token.issued_at -= seconds
    return JSONResponse({"aged": len(sim.tokens)})


async def sim_pages(request: Request) -> Response:
    """{"count"}: that many more Pages for the first user, each with a linked Instagram
    account (`bench<n>`), until reset; answers them."""
    sim = sim_of(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    count = body.get("count") if isinstance(body, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= 10_000:
        return error_response(422, "invalid_body", "count must be 1 to 10000")
    user = sim.config.users[0]
    added = []
    for _ in range(count):
        page_id, ig_id = sim.new_id(), sim.new_id()
        added.append(MetaPage(page_id, f"Page {page_id}", ig_id, f"bench{ig_id}"))
    users = (replace(user, pages=(*user.pages, *added)), *sim.config.users[1:])
    sim.config = replace(sim.config, users=users)
    return JSONResponse(
        {
            "pages": [
                {"id": p.id, "instagram_id": p.instagram_id, "username": p.instagram_username}
                for p in added
            ]
        }
    )


async def sim_published(request: Request) -> Response:
    """Everything published, oldest first, with what its container asked for."""
    sim = sim_of(request)
    host = request.query_params.get("host")
    items = [
        {
            "id": p.id,
            "host": p.host,
            "owner_id": p.owner_id,
            "media_type": p.media_type,
            "text": p.text,
            "permalink": p.permalink,
            "container_id": p.container_id,
            "reply_to_id": p.reply_to_id,
            "children": p.children,
            "params": p.extra,
            "timestamp": p.timestamp.isoformat(),
        }
        for p in sim.published.values()
        if host is None or p.host == host
    ]
    return JSONResponse({"published": items})


async def sim_containers(request: Request) -> Response:
    sim = sim_of(request)
    items = [
        {
            "id": c.id,
            "host": c.host,
            "owner_id": c.owner_id,
            "media_type": c.media_type,
            "status": c.status,
            "params": c.params,
            "children": c.children,
            "fetched": c.fetched,
            "published_id": c.published_id,
            "created": c.created_at,
        }
        for c in sim.containers.values()
    ]
    return JSONResponse({"containers": items})


CONTROL_ROUTES = [
    *control_routes(sim_of, meta_config_wire),
    Route("/_sim/tokens", sim_tokens, methods=["POST"]),
    Route("/_sim/age-tokens", sim_age_tokens, methods=["POST"]),
    Route("/_sim/pages", sim_pages, methods=["POST"]),
    Route("/_sim/published", sim_published, methods=["GET"]),
    Route("/_sim/containers", sim_containers, methods=["GET"]),
]
