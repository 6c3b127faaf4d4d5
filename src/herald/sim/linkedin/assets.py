"""The Images, Videos and Documents APIs: initializeUpload, the byte PUTs (video in parts,
each answered with an ETag), finalizeUpload, and the status reads (PROCESSING -> AVAILABLE)."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.control import base_url
from herald.sim.linkedin.http import LinkedInError, enter, read_json, sim_of
from herald.sim.linkedin.state import Asset

_KINDS = {"images": "image", "videos": "video", "documents": "document"}
_UPLOAD_TTL_MS = 86_400_000


async def assets_action(request: Request) -> Response:
    """POST /rest/{images|videos|documents}?action=initializeUpload|finalizeUpload."""
    grant = await enter(request)
    kind = _KINDS[request.url.path.rstrip("/").rsplit("/", 1)[-1]]
    body = await read_json(request)
    action = request.query_params.get("action")
    if action == "initializeUpload":
        return _initialize(request, kind, grant.member.urn, body)
    if action == "finalizeUpload" and kind == "video":
        return _finalize(request, body)
    raise LinkedInError(400, f"Unsupported action {action}", "ILLEGAL_ARGUMENT")


def _initialize(request: Request, kind: str, member_urn: str, body: dict[str, Any]) -> Response:
    sim = sim_of(request)
    ask = body.get("initializeUploadRequest")
    owner = ask.get("owner") if isinstance(ask, dict) else None
    if not isinstance(owner, str) or not isinstance(ask, dict):
        raise LinkedInError(
            422, "ERROR :: /initializeUploadRequest/owner :: field is required", "INVALID_VALUE"
        )
    grant = sim.grant_for(request.headers["authorization"].partition(" ")[2])
    if grant is None or not sim.can_post_as(grant.member, owner):
        raise LinkedInError(
            403, f"Not enough permissions to upload for {owner}", "ACCESS_DENIED", 100
        )
    asset = Asset(f"urn:li:{kind}:D{sim.next_id()}", kind, owner)
    sim.assets[asset.urn] = asset
    base = f"{base_url(request)}/dms-uploads/{asset.urn}"
    expires = int(time.time() * 1000) + _UPLOAD_TTL_MS
    if kind != "video":
        return JSONResponse(
            {"value": {"uploadUrlExpiresAt": expires, "uploadUrl": f"{base}/0", kind: asset.urn}}
        )
    size = ask.get("fileSizeBytes")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise LinkedInError(
            422,
            "ERROR :: /initializeUploadRequest/fileSizeBytes :: field is required",
            "INVALID_VALUE",
        )
    asset.size = size
    step = sim.config.video_part_bytes
    instructions = [
        {
            "uploadUrl": f"{base}/{first}",
            "firstByte": first,
            "lastByte": min(first + step, size) - 1,
        }
        for first in range(0, size, step)
    ]
    asset.upload_token = "" if len(instructions) == 1 else f"tok{sim.next_id()}"
    return JSONResponse(
        {
            "value": {
                "uploadUrlsExpireAt": expires,
                "video": asset.urn,
                "uploadInstructions": instructions,
                "uploadToken": asset.upload_token,
            }
        }
    )


def _finalize(request: Request, body: dict[str, Any]) -> Response:
    sim = sim_of(request)
    ask = body.get("finalizeUploadRequest")
    if not isinstance(ask, dict):
        raise LinkedInError(
            422, "ERROR :: /finalizeUploadRequest :: field is required", "INVALID_VALUE"
        )
    asset = sim.assets.get(str(ask.get("video")))
    if asset is None or asset.kind != "video":
        raise LinkedInError(404, f"Video {ask.get('video')} not found", "NOT_FOUND")
    expected = [asset.etags[first] for first in sorted(asset.etags)]
    received = sum(len(p) for p in asset.parts.values())
    if (
        ask.get("uploadToken", "") != asset.upload_token
        or ask.get("uploadedPartIds") != expected
        or received != asset.size
    ):
        raise LinkedInError(
            400, "Uploaded parts do not match the upload instructions", "BAD_REQUEST"
        )
    asset.status = "PROCESSING"
    asset.available_at = time.monotonic() + sim.config.processing_s
    return Response(status_code=200)


async def upload(request: Request) -> Response:
    """PUT B/dms-uploads/{urn}/{first}: the bytes of an upload (or of one video part)."""
    sim = sim_of(request)
    asset = sim.assets.get(unquote(request.path_params["urn"]))
    if asset is None:
        return Response(status_code=404)
    if asset.kind != "video":  # [docs] image and document uploads take the bearer token
        given = request.headers.get("authorization", "").partition(" ")[2]
        if sim.grant_for(given) is None:
            return Response(status_code=401)
    data = await request.body()
    first = int(request.path_params["first"])
    asset.parts[first] = data
    etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
    asset.etags[first] = etag
    sim.stats["uploads"] += 1
    if asset.kind != "video":
        asset.size = len(data)
        asset.status = "AVAILABLE"
    return Response(status_code=201, headers={"ETag": etag})


async def asset_status(request: Request) -> Response:
    """GET /rest/{images|videos|documents}/{urn}."""
    await enter(request)
    sim = sim_of(request)
    urn = unquote(request.path_params["urn"])
    asset = sim.assets.get(urn)
    if asset is None or asset.kind != _KINDS[request.url.path.split("/")[-2]]:
        raise LinkedInError(404, f"{urn} not found", "NOT_FOUND")
    return JSONResponse(
        {
            "id": asset.urn,
            "owner": asset.owner,
            "status": asset.current_status(),
            "downloadUrl": None,
        }
    )
