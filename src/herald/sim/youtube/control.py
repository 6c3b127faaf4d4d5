"""The YouTube simulator's /_sim/ routes beyond the shared ones: tokens without the consent
page, expiry, the upload fault script, and listings of videos, sessions, items and thumbnails."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.sim.control import control_routes
from herald.sim.faults import ConfigError, error_response, script_entries
from herald.sim.youtube.config import config_wire
from herald.sim.youtube.http import sim_of

DEFAULT_SCOPE = (
    "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube"
)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


async def script(request: Request) -> Response:
    """{"faults"?: [...] (unused by YouTube's creates), "upload"?: [lost_response | unavailable
    | timeout | ok, ...]}: one entry per chunk PUT."""
    sim, body = sim_of(request), await _json(request)
    try:
        if "faults" in body:
            sim.injector.extend(script_entries({"faults": body["faults"]}))
        sim.script_uploads(body.get("upload", []))
    except ConfigError as exc:
        return error_response(422, "invalid_script", str(exc))
    return JSONResponse({"upload": list(sim.upload_script)})


async def tokens(request: Request) -> Response:
    body = await _json(request)
    scope = str(body.get("scope", DEFAULT_SCOPE))
    return JSONResponse(sim_of(request).issue(scope, offline=bool(body.get("offline", True))))


async def expire_tokens(request: Request) -> Response:
    return JSONResponse({"expired": sim_of(request).expire_tokens()})


async def videos(request: Request) -> Response:
    sim = sim_of(request)
    listing = [
        {
            "id": v.id,
            "title": v.snippet.get("title"),
            "description": v.snippet.get("description"),
            "tags": v.snippet.get("tags", []),
            "categoryId": v.snippet.get("categoryId"),
            "privacyStatus": v.status.get("privacyStatus"),
            "selfDeclaredMadeForKids": v.status.get("selfDeclaredMadeForKids"),
            "size": v.size,
            "sha256": v.sha256,
            "session": v.session_id,
        }
        for v in sim.videos.values()
    ]
    return JSONResponse({"videos": listing})


async def sessions(request: Request) -> Response:
    listing = [
        {"id": s.id, "total": s.total, "received": s.received, "videoId": s.video_id}
        for s in sim_of(request).sessions.values()
    ]
    return JSONResponse({"sessions": listing})


async def extras(request: Request) -> Response:
    sim = sim_of(request)
    return JSONResponse({"playlistItems": sim.playlist_items, "thumbnails": sim.thumbnails})


CONTROL_ROUTES = [
    *control_routes(sim_of, config_wire, script),
    Route("/_sim/tokens", tokens, methods=["POST"]),
    Route("/_sim/expire-tokens", expire_tokens, methods=["POST"]),
    Route("/_sim/videos", videos, methods=["GET"]),
    Route("/_sim/sessions", sessions, methods=["GET"]),
    Route("/_sim/extras", extras, methods=["GET"]),
]
