"""X's v2 media upload: one-shot `POST /2/media/upload`, the chunked initialize / append /
finalize endpoints (and the same steps as `command=INIT|APPEND|FINALIZE` on /2/media/upload),
and `GET /2/media/upload?command=STATUS` while a video or GIF is processed."""

from __future__ import annotations

import math
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from herald.sim.faults import hold
from herald.sim.x.forms import UploadBody, read_upload
from herald.sim.x.http import (
    blank_problem,
    enter,
    invalid_request,
    read_json,
    respond,
    sim_of,
    too_many,
)
from herald.sim.x.state import XSim
from herald.sim.x.tokens import AccessToken
from herald.sim.x.uploads import EXPIRES_AFTER_S, SimMedia

SCOPES = ("media.write",)  # X's OpenAPI `security` for every media upload endpoint
MIB = 1024 * 1024
# X's media limits (docs: x-api/media/quickstart/best-practices): photos 5 MB, GIFs 15 MB,
# videos 512 MB; a chunk up to 5 MB; segment indexes 0-999.
SIZE_LIMITS = {"tweet_image": 5 * MIB, "tweet_gif": 15 * MIB, "tweet_video": 512 * MIB}
SIZE_LIMITS["amplify_video"] = SIZE_LIMITS["tweet_video"]
CHUNK_LIMIT = 5 * MIB
MAX_SEGMENT = 999
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/bmp", "image/pjpeg"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/mp2t"})
CHECK_AFTER_S = 1
ALT_TEXT_LIMIT = 1000  # X: alt text up to 1,000 characters
SEGMENTS_MISMATCH = "Segments do not add up to provided total file size."


async def initialize(request: Request) -> Response:
    """POST /2/media/upload/initialize {"media_type", "total_bytes", "media_category"?}."""
    sim = sim_of(request)
    token = await _enter(request, sim, "media:initialize")
    body = await read_upload(request)
    return await _answer(request, _initialize(sim, token, body))


async def append(request: Request) -> Response:
    """POST /2/media/upload/{id}/append: `segment_index` and `media`, JSON or multipart."""
    sim = sim_of(request)
    token = await _enter(request, sim, "media:append")
    body = await read_upload(request)
    return await _answer(request, _append(sim, token, request.path_params["id"], body))


async def finalize(request: Request) -> Response:
    sim = sim_of(request)
    token = await _enter(request, sim, "media:finalize")
    return await _answer(request, _finalize(sim, token, request.path_params["id"]))


async def upload(request: Request) -> Response:
    """POST /2/media/upload: a whole image (`media`, `media_category`) at once, or one step
    of a chunked upload named by `command`."""
    sim = sim_of(request)
    token = await _enter(request, sim, "media:upload")
    body = await read_upload(request)
    command = (body.text("command") or "").upper()
    if command == "INIT":
        return await _answer(request, _initialize(sim, token, body))
    if command == "APPEND":
        media_id = body.text("media_id") or ""
        _append(sim, token, media_id, body)
        return await _answer(request, None)
    if command == "FINALIZE":
        return await _answer(request, _finalize(sim, token, body.text("media_id") or ""))
    if command:
        raise invalid_request("command", command, "command must be INIT, APPEND or FINALIZE")
    return await _answer(request, _one_shot(sim, token, body))


async def status(request: Request) -> Response:
    """GET /2/media/upload?command=STATUS&media_id=..."""
    sim = sim_of(request)
    token = await _enter(request, sim, "media:status")
    query = request.query_params
    if query.get("command") != "STATUS":
        raise invalid_request("command", query.get("command", ""), "command must be STATUS")
    sim.stats.status_polls += 1
    media = _session(sim, token, query.get("media_id", ""), finalized=None)
    return await _answer(request, _entity(media))


async def metadata(request: Request) -> Response:
    """POST /2/media/metadata {"id", "metadata": {"alt_text": {"text"}}}: the caller's media
    gets its description, before or after finalize."""
    sim = sim_of(request)
    token = await _enter(request, sim, "media:metadata")
    body = await read_json(request)
    sim.record("POST /2/media/metadata", body)
    media = _session(sim, token, str(body.get("id", "")), finalized=None)
    meta = body.get("metadata")
    alt = meta.get("alt_text") if isinstance(meta, dict) else None
    text = alt.get("text") if isinstance(alt, dict) else None
    if not isinstance(text, str):
        raise invalid_request("metadata.alt_text.text", str(text), "alt_text.text is required")
    if len(text) > ALT_TEXT_LIMIT:
        message = f"alt_text.text may be at most {ALT_TEXT_LIMIT} characters"
        raise invalid_request("metadata.alt_text.text", text, message)
    media.alt_text = text
    return await _answer(
        request, {"id": media.id, "associated_metadata": {"alt_text": {"text": text}}}
    )


async def _enter(request: Request, sim: XSim, endpoint: str) -> AccessToken:
    """The shared checks, then the upload fault scripted for this call, if any: a refusal
    stops here; lost_response and error_after_create act when the answer is sent."""
    token = await enter(request, endpoint, SCOPES, sim.config.media_per_window)
    sim.stats.uploads += endpoint != "media:status"
    fault = sim.upload_script.popleft() if sim.upload_script else "ok"
    if fault == "ok":
        return token
    sim.stats.upload_faults += 1
    if fault == "rate_limit":
        limit = sim.config.media_per_window or 1875
        key = (token.grant.user.id, endpoint)
        raise too_many(request, sim.windows.exhaust(key, limit, sim.config.common.retry_after_s))
    if fault in ("unavailable", "timeout"):
        if fault == "timeout":
            await hold(request, sim.config.common.hang_s)
        raise blank_problem(503, "Service Unavailable")
    request.state.upload_fault = fault
    return token


async def _answer(request: Request, data: dict[str, Any] | None) -> Response:
    """The answer of an upload call that did its work: 200 with `data` (204 without), unless
    the scripted fault replaces it with a 500 or holds it."""
    fault = getattr(request.state, "upload_fault", None)
    if fault == "error_after_create":
        raise blank_problem(500, "Internal Server Error")
    if fault == "lost_response":
        await hold(request, sim_of(request).config.common.hang_s)
    if data is None:
        return Response(status_code=204, headers=getattr(request.state, "x_headers", {}))
    return respond(request, {"data": data})


def _initialize(sim: XSim, token: AccessToken, body: UploadBody) -> dict[str, Any]:
    sim.record("POST /2/media/upload/initialize", dict(body.fields))
    media_type = body.text("media_type") or ""
    total = body.fields.get("total_bytes")
    total_bytes = int(total) if isinstance(total, int | str) and str(total).isdecimal() else 0
    category = body.text("media_category") or _category_of(media_type)
    if media_type not in IMAGE_TYPES | VIDEO_TYPES | {"image/gif"}:
        raise invalid_request("media_type", media_type, "media_type is not supported")
    if category not in SIZE_LIMITS or not _fits(category, media_type):
        raise invalid_request("media_category", category, "media_category does not fit media_type")
    if not 0 < total_bytes <= SIZE_LIMITS[category]:
        limit = SIZE_LIMITS[category]
        raise invalid_request("total_bytes", str(total), f"total_bytes must be 1 to {limit}")
    media = SimMedia(sim.new_id(), token.grant.user.id, category, media_type, total_bytes)
    sim.media[media.id] = media
    return {"id": media.id, "media_key": media.key, "expires_after_secs": EXPIRES_AFTER_S}


def _category_of(media_type: str) -> str:
    if media_type == "image/gif":
        return "tweet_gif"
    return "tweet_video" if media_type in VIDEO_TYPES else "tweet_image"


def _fits(category: str, media_type: str) -> bool:
    if category == "tweet_image":
        return media_type in IMAGE_TYPES or media_type == "image/gif"
    if category == "tweet_gif":
        return media_type == "image/gif"
    return media_type in VIDEO_TYPES


def _append(sim: XSim, token: AccessToken, media_id: str, body: UploadBody) -> dict[str, Any]:
    media = _session(sim, token, media_id, finalized=False)
    index = body.fields.get("segment_index")
    segment = int(index) if isinstance(index, int | str) and str(index).isdecimal() else -1
    if not 0 <= segment <= MAX_SEGMENT:
        raise invalid_request("segment_index", str(index), "segment_index must be 0 to 999")
    chunk = body.media
    if not chunk:
        raise invalid_request("media", "", "media is required")
    if len(chunk) > CHUNK_LIMIT:
        raise invalid_request("media", "", f"a segment may be at most {CHUNK_LIMIT} bytes")
    others = media.size - len(media.segments.get(segment, b""))
    if others + len(chunk) > media.total_bytes:
        raise invalid_request("media", "", SEGMENTS_MISMATCH)
    media.segments[segment] = chunk  # the same index again replaces it, as a retry would
    expires = math.floor(time.time() + EXPIRES_AFTER_S - (time.monotonic() - media.created))
    return {"expires_at": expires}


def _finalize(sim: XSim, token: AccessToken, media_id: str) -> dict[str, Any]:
    """Finalizing twice answers the media's state again: a client unsure whether its first
    finalize arrived may send it again [chosen]."""
    media = _session(sim, token, media_id, finalized=None)
    if not media.finalized:
        if media.size != media.total_bytes or not media.segments:
            raise invalid_request("media_id", media_id, SEGMENTS_MISMATCH)
        if sorted(media.segments) != list(range(len(media.segments))):
            raise invalid_request("media_id", media_id, SEGMENTS_MISMATCH)
        media.finalized = True
        media.finalized_at = time.monotonic()
        if media.category != "tweet_image":
            media.ready_at = media.finalized_at + sim.config.processing_s
            media.fails = sim.next_media_outcome() == "fail"
    return _entity(media)


def _one_shot(sim: XSim, token: AccessToken, body: UploadBody) -> dict[str, Any]:
    category = body.text("media_category") or ""
    if category not in ("tweet_image", "tweet_gif"):
        raise invalid_request("media_category", category, "upload videos in chunks")
    data = body.media
    if not data:
        raise invalid_request("media", "", "media is required")
    if len(data) > SIZE_LIMITS[category]:
        raise invalid_request("media", "", f"media may be at most {SIZE_LIMITS[category]} bytes")
    media_type = body.text("media_type") or ("image/gif" if category == "tweet_gif" else "")
    media = SimMedia(sim.new_id(), token.grant.user.id, category, media_type, len(data))
    media.segments[0] = data
    sim.media[media.id] = media
    return _finalize(sim, token, media.id)


def _session(sim: XSim, token: AccessToken, media_id: str, finalized: bool | None) -> SimMedia:
    """The caller's upload `media_id`; `finalized` False refuses a finished one."""
    media = sim.media.get(media_id)
    if media is None or media.owner_id != token.grant.user.id:
        raise invalid_request("media_id", media_id, "The media_id is invalid.")
    if finalized is False and media.finalized:
        raise invalid_request("media_id", media_id, "The upload has been finalized already.")
    return media


def _entity(media: SimMedia) -> dict[str, Any]:
    """The media as finalize and STATUS show it: processing_info while a video or GIF is
    processed or after it was, none for photos."""
    entity: dict[str, Any] = {
        "id": media.id,
        "media_key": media.key,
        "size": media.total_bytes,
        "expires_after_secs": max(0, int(EXPIRES_AFTER_S - (time.monotonic() - media.created))),
    }
    state = media.state()
    if state is None:
        return entity
    info: dict[str, Any] = {"state": state}
    if state in ("pending", "in_progress"):
        info["check_after_secs"] = CHECK_AFTER_S
    info["progress_percent"] = media.progress()
    if state == "failed":
        info["error"] = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}
    entity["processing_info"] = info
    return entity
