"""channels.list (mine), videos.list and playlistItems.insert [docs: Data API v3 reference]."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.youtube.entities import channel_resource, list_answer, video_resource
from herald.sim.youtube.http import (
    MANAGE_SCOPES,
    UPLOAD_SCOPES,
    ApiError,
    authorised,
    charge,
    sim_of,
)

READ_SCOPES = UPLOAD_SCOPES | frozenset({"https://www.googleapis.com/auth/youtube.readonly"})


async def channels(request: Request) -> Response:
    """GET /youtube/v3/channels?part=snippet&mine=true: the caller's channel (1 unit)."""
    await authorised(request, READ_SCOPES)
    charge(request, 1)
    if request.query_params.get("mine") != "true":
        raise ApiError(
            400,
            "missingRequiredParameter",
            "No filter selected. Expected one of: "
            "mine, id, forHandle, forUsername, managedByMe, categoryId",
        )
    return JSONResponse(list_answer("channel", [channel_resource(sim_of(request))]))


async def videos(request: Request) -> Response:
    """GET /youtube/v3/videos?part=…&id=a,b: the caller's videos by id (1 unit); unknown ids are
    left out of `items` [docs]."""
    await authorised(request, READ_SCOPES)
    charge(request, 1)
    sim = sim_of(request)
    sim.stats["video_reads"] += 1
    parts = set(request.query_params.get("part", "").split(","))
    ids = [i for i in request.query_params.get("id", "").split(",") if i]
    found = [video_resource(sim, sim.videos[i], parts) for i in ids if i in sim.videos]
    return JSONResponse(list_answer("video", found))


async def insert_playlist_item(request: Request) -> Response:
    """POST /youtube/v3/playlistItems?part=snippet {"snippet": {"playlistId", "resourceId":
    {"kind": "youtube#video", "videoId"}}} (50 units)."""
    await authorised(request, MANAGE_SCOPES)
    sim = sim_of(request)
    try:
        body = json.loads(await request.body())
        snippet = body["snippet"]
        playlist_id = snippet["playlistId"]
        video_id = snippet["resourceId"]["videoId"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(
            400,
            "playlistIdRequired",
            "The request does not specify a valid playlist ID and video ID.",
        ) from None
    if playlist_id not in sim.config.playlist_ids:
        raise ApiError(
            404,
            "playlistNotFound",
            "The playlist identified with the request's "
            "<code>playlistId</code> parameter cannot be found.",
        )
    if video_id not in sim.videos:
        raise ApiError(
            404,
            "videoNotFound",
            "The video that you are trying to add to the playlist cannot be found.",
        )
    charge(request, 50)
    position = sum(1 for item in sim.playlist_items if item["playlistId"] == playlist_id)
    item = {"id": sim.new_id(40), "playlistId": playlist_id, "videoId": video_id}
    sim.playlist_items.append(item)
    sim.stats["playlist_items"] += 1
    return JSONResponse(
        {
            "kind": "youtube#playlistItem",
            "etag": sim.new_id(27),
            "id": item["id"],
            "snippet": {
                "playlistId": playlist_id,
                "position": position,
                "resourceId": {"kind": "youtube#video", "videoId": video_id},
                "channelId": sim.config.channel_id,
                "title": sim.videos[video_id].snippet.get("title", ""),
            },
        }
    )
