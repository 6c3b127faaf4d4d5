"""The Bluesky simulator: a PDS's XRPC endpoints for what Herald does, in memory.

`B` is the base URL: `http://127.0.0.1:PORT` standalone, or the mount point. Behaviour follows
@atproto/pds 0.5.35 as run offline (see the reference notes on platforms); accounts (handle, DID,
app password, display name, avatar) come from the config (herald.sim.bluesky_config). Errors are
`{"error": Name, "message": text}`. Every call is `GET|POST B/xrpc/<nsid>`; an unknown nsid gets
501 MethodNotImplemented, the wrong HTTP method 400 InvalidRequest.

Authentication: `Authorization: Bearer <accessJwt>`. None → 401 AuthenticationRequired; unknown,
revoked or of the wrong scope → InvalidToken; past its lifetime (or expired through the control
API) → ExpiredToken; those two come with `token_error_status` (400, as the PDS sends them, or 401).

    POST com.atproto.server.createSession {"identifier": handle | DID, "password": app password}
        200 {"accessJwt", "refreshJwt", "handle", "did", "active"}; tokens are JWT-shaped, access
            living `access_ttl_s` (2 h), refresh `refresh_ttl_s` (90 days)
        401 AuthenticationRequired "Invalid identifier or password"
        429 RateLimitExceeded past `session_limit` logins per identifier and client address
            per `session_window_s` (failed ones count too)
    POST com.atproto.server.refreshSession  (Bearer refreshJwt) 200 a new pair; the old refresh
        token is spent ("Token has been revoked" if used again)
    GET  com.atproto.repo.describeRepo?repo=<did|handle>  {"handle", "did", "didDoc",
        "collections", "handleIsCorrect"}; unknown: 400 InvalidRequest "Could not find repo: ..."
    GET  app.bsky.actor.getProfile?actor=  (auth) with `appview` off, 502 UpstreamFailure like a
        bare PDS; on, {"did", "handle", "displayName"?, "avatar"?, counts}
    GET  app.bsky.feed.getPosts?uris=...  (auth; at most 25; needs `appview` like getProfile)
        {"posts": [post views: uri, cid, author, record, likeCount, replyCount, repostCount,
        quoteCount, bookmarkCount, indexedAt]}, posts it does not have left out; counts are
        set with POST /_sim/engagement {"uri", "<name>Count"...} (profiles: {"did",
        "followers"?, "follows"?})
    GET  com.atproto.identity.resolveHandle?handle=  {"did"}, or 400 "Unable to resolve handle"
    POST com.atproto.repo.uploadBlob  (auth) raw bytes, Content-Type → {"blob": {"$type": "blob",
        "ref": {"$link": CID of the bytes}, "mimeType", "size"}}; over `blob_limit_bytes`:
        413 PayloadTooLarge "request entity too large" (the body is read to its end first)
    POST com.atproto.repo.createRecord  (auth) {"repo", "collection", "rkey"?, "record"}
        200 {"uri": "at://<did>/<collection>/<rkey>", "cid", "commit": {"cid", "rev"},
             "validationStatus": "valid"}
        401 AuthenticationRequired: repo is not the session's account
        400 InvalidRequest: unknown repo; a post's rkey not a TID; $type not the collection; the
            post record invalid (herald.sim.bluesky_record: 3,000 bytes, 300 graphemes, facets,
            1-4 images or a video of uploaded blobs, reply refs to stored records)
        500 InternalServerError: a record exists at that rkey already (the real PDS's answer)
    GET  com.atproto.repo.getRecord?repo&collection&rkey[&cid]  {"uri", "cid", "value"}, or 400
        RecordNotFound "Could not locate record: <uri>"; auth optional, a stale token refused
    GET  com.atproto.repo.listRecords?repo&collection[&limit=1..100 (50)][&cursor][&reverse=true]
        {"records": [...], "cursor"?}: highest rkey first, oldest first with reverse=true
    GET  _health  {"version"}

Rate limits: with `rate_limit` set, every XRPC call counts against a fixed window of
`rate_window_s` per client address and carries `RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset` (epoch seconds) and `RateLimit-Policy: <limit>;w=<window>`; past the limit
429 RateLimitExceeded. createSession carries its own window's headers.

A createRecord goes: latency, rate limit, token, body, validation, taken key, fault, store; so
invalid requests and taken keys take no fault. The fault comes from the script (FIFO, "ok"
meaning none) or one draw over the configured probabilities:

    rate_limit          429 RateLimitExceeded, RateLimit-Remaining 0 and RateLimit-Reset now +
                        `retry_after_s`; nothing stored
    unavailable         503 NotEnoughResources; nothing stored
    error_after_create  the record is stored, then 500 InternalServerError
    lost_response       stored, then the answer is held `hang_s` (less if the client hangs up)
    timeout             held `hang_s`, then 504 UpstreamTimeout; nothing stored
    rejected            400 InvalidRequest "rejected by fault injection"

Control API (no latency, no rate limit, no token):

    GET|POST B/_sim/config    read | merge {"blob_limit_bytes", "appview", "access_ttl_s",
                              "refresh_ttl_s", "token_error_status", "rate_limit",
                              "rate_window_s", "session_limit", "session_window_s", "latency_ms",
                              "latency_jitter_ms", "retry_after_s", "hang_s", "seed",
                              "faults": {name: p}}; "accounts" is read-only here
    GET|POST B/_sim/accounts  list | add {"handle", "appPassword", "did"?, "displayName"?,
                              "avatar"?} (the DID defaults to one derived from the handle)
    POST B/_sim/expire-tokens {"refresh"?: bool}  every access token (and refresh token) issued
                              so far expires now: {"expired": {"access": n, "refresh": m}}
    POST B/_sim/script        {"faults": [name | "ok", ...]}, appended to the script
    GET  B/_sim/stats         {"calls": {nsid: n}, "sessions": {"created", "refreshed"},
                              "records", "blobs", "duplicates" (createRecord at a taken key),
                              "rate_limited", "faults": {name: n}}
    GET  B/_sim/records[?repo=DID]  {"records": [{"uri", "cid", "value", "repo", "collection",
                              "rkey", "indexedAt"}]}, in the order stored
    GET  B/_sim/blobs[?repo=DID]    {"blobs": [{"repo", "$type", "ref", "mimeType", "size"}]}
    POST B/_sim/reset         clears records, blobs, sessions, windows, script and counters, and
                              restores the config (and accounts) the app was created with
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.sim.bluesky_accounts import (
    create_session,
    describe_repo,
    get_profile,
    refresh_session,
    resolve_handle,
)
from herald.sim.bluesky_config import DEMO_ACCOUNT, BlueskyConfig, SimAccount
from herald.sim.bluesky_control import CONTROL_ROUTES
from herald.sim.bluesky_feed import get_posts
from herald.sim.bluesky_repo import create_record, get_record, list_records, upload_blob
from herald.sim.bluesky_state import BlueskySim, XrpcError, sim_of
from herald.sim.control import serve
from herald.sim.faults import error_response

__all__ = [
    "DEMO_ACCOUNT",
    "BlueskyConfig",
    "BlueskySim",
    "SimAccount",
    "create_bluesky_app",
    "serve_bluesky",
]

Handler = Callable[[Request, BlueskySim], Awaitable[Response]]

_METHODS: dict[str, tuple[str, Handler]] = {
    "com.atproto.server.createSession": ("POST", create_session),
    "com.atproto.server.refreshSession": ("POST", refresh_session),
    "com.atproto.repo.describeRepo": ("GET", describe_repo),
    "app.bsky.actor.getProfile": ("GET", get_profile),
    "app.bsky.feed.getPosts": ("GET", get_posts),
    "com.atproto.identity.resolveHandle": ("GET", resolve_handle),
    "com.atproto.repo.uploadBlob": ("POST", upload_blob),
    "com.atproto.repo.createRecord": ("POST", create_record),
    "com.atproto.repo.getRecord": ("GET", get_record),
    "com.atproto.repo.listRecords": ("GET", list_records),
}


async def xrpc(request: Request) -> Response:
    sim = sim_of(request)
    nsid = request.path_params["nsid"]
    if nsid == "_health":
        return JSONResponse({"version": "herald-sim"})
    entry = _METHODS.get(nsid)
    if entry is None:
        return error_response(501, "MethodNotImplemented", "Method Not Implemented")
    method, handler = entry
    if request.method != method:
        message = f"Incorrect HTTP method ({request.method}) expected {method}"
        return error_response(400, "InvalidRequest", message)
    sim.calls[nsid] += 1
    await asyncio.sleep(sim.injector.latency_s(sim.config.behaviour))
    headers: dict[str, str] = {}
    if sim.config.rate_limit is not None:
        client = request.client.host if request.client else "unknown"
        allowed, headers = sim.take(("ip", client), sim.config.rate_limit, sim.config.rate_window_s)
        if not allowed:
            sim.rate_limited += 1
            return error_response(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
    try:
        response = await handler(request, sim)
    except XrpcError as failure:
        response = failure.response()
    for name, value in headers.items():
        if name not in response.headers:  # a narrower window (createSession's) has its own
            response.headers[name] = value
    return response


def create_bluesky_app(config: BlueskyConfig | None = None) -> Starlette:
    """A fresh simulator; its state is `app.state.bluesky` (a BlueskySim)."""
    app = Starlette(routes=[Route("/xrpc/{nsid}", xrpc, methods=["GET", "POST"]), *CONTROL_ROUTES])
    app.state.bluesky = BlueskySim(config or BlueskyConfig())
    return app


def serve_bluesky(host: str, port: int, config: BlueskyConfig | None = None) -> None:
    """Run the simulator until interrupted (`herald sim`)."""
    serve(create_bluesky_app(config), host, port)
