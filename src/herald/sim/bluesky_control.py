"""Bluesky simulator: the control API under /_sim/ (config, faults, accounts, tokens, contents)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.sim.bluesky_config import config_to_wire
from herald.sim.bluesky_state import sim_of
from herald.sim.control import control_routes
from herald.sim.faults import error_response


async def sim_accounts(request: Request) -> Response:
    sim = sim_of(request)
    if request.method == "POST":
        try:
            account = sim.add_account(await request.json())
        except ValueError as exc:  # bad JSON, or a ConfigError
            return error_response(422, "invalid_account", str(exc))
        return JSONResponse(account.wire())
    return JSONResponse({"accounts": [account.wire() for account in sim.config.accounts]})


async def sim_expire_tokens(request: Request) -> Response:
    try:
        body = await request.json() if await request.body() else {}
    except ValueError:
        body = None
    refresh = body.get("refresh", False) if isinstance(body, dict) else None
    if not isinstance(refresh, bool):
        return error_response(422, "invalid_request", 'body must be {"refresh": true|false}')
    return JSONResponse({"expired": sim_of(request).expire_tokens(refresh)})


async def sim_records(request: Request) -> Response:
    sim = sim_of(request)
    repo = request.query_params.get("repo")
    records = [
        {
            **stored.wire(),
            "repo": stored.did,
            "collection": stored.collection,
            "rkey": stored.rkey,
            "indexedAt": stored.created_at.isoformat().replace("+00:00", "Z"),
        }
        for stored in sim.records.values()
        if repo in (None, stored.did)
    ]
    return JSONResponse({"records": records})


async def sim_blobs(request: Request) -> Response:
    sim = sim_of(request)
    repo = request.query_params.get("repo")
    blobs = [
        {"repo": blob.did, **blob.ref()} for blob in sim.blobs.values() if repo in (None, blob.did)
    ]
    return JSONResponse({"blobs": blobs})


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("counts must be integers from 0")
    return value


async def sim_engagement(request: Request) -> Response:
    """`{"uri", "likeCount"?, "replyCount"?, "repostCount"?, "quoteCount"?, "bookmarkCount"?}`
    on a post, or `{"did", "followers"?, "follows"?}` on an account."""
    sim = sim_of(request)
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("body must be an object")
        if "uri" in body:
            counts = {k: _count(v) for k, v in body.items() if k.endswith("Count")}
            sim.engagement.setdefault(str(body["uri"]), {}).update(counts)
            return JSONResponse({"uri": body["uri"], **counts})
        did = str(body.get("did", ""))
        before = sim.follows.get(did, (0, 0))
        followers = _count(body.get("followers", before[0]))
        follows = _count(body.get("follows", before[1]))
        sim.follows[did] = (followers, follows)
        return JSONResponse({"did": did, "followers": followers, "follows": follows})
    except ValueError as exc:
        return error_response(422, "invalid_engagement", str(exc))


CONTROL_ROUTES = [
    *control_routes(sim_of, config_to_wire),
    Route("/_sim/accounts", sim_accounts, methods=["GET", "POST"]),
    Route("/_sim/expire-tokens", sim_expire_tokens, methods=["POST"]),
    Route("/_sim/records", sim_records, methods=["GET"]),
    Route("/_sim/blobs", sim_blobs, methods=["GET"]),
    Route("/_sim/engagement", sim_engagement, methods=["POST"]),
]
