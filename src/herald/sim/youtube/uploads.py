"""videos.insert as Google's resumable upload protocol, and thumbnails.set as a media upload
[docs: developers.google.com/youtube/v3/guides/using_resumable_upload_protocol]."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.control import base_url
from herald.sim.faults import hold
from herald.sim.youtube.config import CATEGORIES, CHUNK_GRANULARITY
from herald.sim.youtube.entities import video_resource
from herald.sim.youtube.http import ApiError, authorised, charge, sim_of
from herald.sim.youtube.state import UploadSession

_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")
_PRIVACY = frozenset({"public", "unlisted", "private"})
THUMBNAIL_TYPES = frozenset({"image/jpeg", "image/png", "application/octet-stream"})
THUMBNAIL_MAX = 2 * 1024 * 1024


async def start_session(request: Request) -> Response:
    """POST …/videos?uploadType=resumable&part=…: check the metadata, open a session, answer 200
    with its URI in Location. Metadata is checked here, before any byte [chosen]."""
    await authorised(request)
    if request.query_params.get("uploadType") != "resumable":
        raise ApiError(400, "badRequest", "Herald's simulator takes resumable uploads only")
    parts = set(request.query_params.get("part", "").split(","))
    try:
        metadata = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ApiError(400, "parseError", "Parse Error") from None
    if not isinstance(metadata, dict):
        raise ApiError(400, "parseError", "Parse Error")
    _check_metadata(metadata, parts)
    total = request.headers.get("x-upload-content-length")
    if total is not None and not total.isdigit():
        raise ApiError(400, "badRequest", "Invalid X-Upload-Content-Length")
    charge(request, 1, upload=True)
    sim = sim_of(request)
    session = UploadSession(
        id=sim.new_id(32),
        metadata=metadata,
        total=int(total) if total is not None else None,
        content_type=request.headers.get("x-upload-content-type", "video/*"),
    )
    sim.sessions[session.id] = session
    sim.stats["sessions"] += 1
    path = request.url.path
    location = f"{base_url(request)}{path}?uploadType=resumable&upload_id={session.id}"
    return Response(status_code=200, headers={"Location": location})


def _check_metadata(metadata: dict[str, Any], parts: set[str]) -> None:
    if "snippet" not in parts:
        raise ApiError(400, "invalidPart", "'snippet' is required in part")
    snippet = metadata.get("snippet")
    if not isinstance(snippet, dict):
        raise ApiError(
            400, "invalidTitle", "The request metadata specifies an invalid or empty video title."
        )
    title = snippet.get("title")
    if (
        not isinstance(title, str)
        or not title.strip()
        or len(title) > 100
        or "<" in title
        or ">" in title
    ):
        raise ApiError(
            400, "invalidTitle", "The request metadata specifies an invalid or empty video title."
        )
    description = snippet.get("description", "")
    if (
        not isinstance(description, str)
        or len(description.encode()) > 5000
        or "<" in description
        or ">" in description
    ):
        raise ApiError(
            400,
            "invalidDescription",
            "The request metadata specifies an invalid video description.",
        )
    tags = snippet.get("tags", [])
    if not isinstance(tags, list) or sum(len(str(t)) for t in tags) > 500:
        raise ApiError(400, "invalidTags", "The request metadata specifies invalid video keywords.")
    category = snippet.get("categoryId")
    if category is not None and category not in CATEGORIES:
        raise ApiError(
            400,
            "invalidCategoryId",
            "The <code>snippet.categoryId</code> property specifies an invalid category ID.",
        )
    status = metadata.get("status") or {}
    if not isinstance(status, dict) or status.get("privacyStatus", "public") not in _PRIVACY:
        raise ApiError(400, "invalidVideoMetadata", "The request metadata is invalid.")


async def put_bytes(request: Request) -> Response:
    """PUT <session URI>: a chunk `Content-Range: bytes a-b/N` that starts at the confirmed
    offset (308 with `Range: bytes=0-x` while incomplete, 200 with the video at the end), or a
    status query `Content-Range: bytes */N` (the same answers, nothing stored). No token: the
    session URI is the credential [docs]."""
    sim = sim_of(request)
    session = sim.sessions.get(request.query_params.get("upload_id", ""))
    if session is None:
        raise ApiError(404, "notFound", "The upload session was not found or has expired.")
    if sim.config.latency_ms:
        await asyncio.sleep(sim.config.latency_ms / 1000)
    header = request.headers.get("content-range")
    first, last, total = _content_range(header, session)
    if first is None:
        sim.stats["status_queries"] += 1
    if first is None or session.video_id is not None or first != session.received:
        # A status query, a finished session, or a chunk that does not follow the confirmed
        # offset: nothing is stored, the answer says where the session stands.
        await _drain(request)
        return _progress(request, session, total)
    fault = sim.next_upload_fault()
    await _refuse(request, fault)
    received = await _store(request, session)
    if last is not None and last - first + 1 != received:
        raise ApiError(400, "badRequest", "Content-Range does not match the body's length.")
    final = header is None or (total is not None and session.received >= total)
    if not final and received % CHUNK_GRANULARITY:
        raise ApiError(
            400,
            "badRequest",
            f"Chunks must be multiples of {CHUNK_GRANULARITY} bytes, except the last.",
        )
    if final:
        sim.finish(session)
    answer = _progress(request, session, total)
    if fault == "lost_response":  # stored, but the answer never reaches the client
        sim.stats["lost_answers"] += 1
        await hold(request, sim.config.hang_s)
    return answer


async def _refuse(request: Request, fault: str | None) -> None:
    """The faults that store nothing: `unavailable` at once, `timeout` after a hold."""
    if fault in ("unavailable", "timeout"):
        await _drain(request)
        if fault == "timeout":
            await hold(request, sim_of(request).config.hang_s)
        raise ApiError(503, "backendError", "Backend Error")


def _content_range(
    header: str | None, session: UploadSession
) -> tuple[int | None, int | None, int | None]:
    """(first, last, total) of a chunk; first None for a status query; no header: the whole
    file in one request."""
    if header is None:
        return 0, None, session.total
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        raise ApiError(400, "badRequest", "Failed to parse Content-Range header.")
    total = int(match[3]) if match[3] != "*" else session.total
    if match[1] is None:
        return None, None, total
    return int(match[1]), int(match[2]), total


async def _drain(request: Request) -> None:
    async for _ in request.stream():
        pass


async def _store(request: Request, session: UploadSession) -> int:
    """Hash the body as it streams in; only a chunk that arrived whole joins the session
    [chosen]. `bytes_arrived` counts every byte, a cut-off chunk's too."""
    sim, received = sim_of(request), 0
    digest = session.digest.copy()
    async for chunk in request.stream():
        digest.update(chunk)
        received += len(chunk)
        sim.stats["bytes_arrived"] += len(chunk)
    session.digest = digest
    session.received += received
    sim.stats["chunks"] += 1
    sim.stats["bytes_received"] += received
    return received


def _progress(request: Request, session: UploadSession, total: int | None) -> Response:
    sim = sim_of(request)
    if session.video_id is not None:
        return JSONResponse(
            video_resource(sim, sim.videos[session.video_id], {"snippet", "status"})
        )
    if total is not None and session.received > total:
        raise ApiError(400, "badRequest", "More bytes than the declared total.")
    headers = {"Range": f"bytes=0-{session.received - 1}"} if session.received else {}
    # 308 "Resume Incomplete" [docs]; Starlette knows no reason phrase for it.
    return Response(status_code=308, headers=headers)


async def set_thumbnail(request: Request) -> Response:
    """POST /upload/youtube/v3/thumbnails/set?videoId=…: the image as the body (uploadType=media).
    Costs 50 units [docs]."""
    await authorised(request)
    sim = sim_of(request)
    video = sim.videos.get(request.query_params.get("videoId", ""))
    if video is None:
        raise ApiError(
            404, "videoNotFound", "The video that you are trying to update cannot be found."
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    body = await request.body()
    if content_type not in THUMBNAIL_TYPES or not body:
        raise ApiError(400, "mediaBodyRequired", "The request does not include the image content.")
    if len(body) > THUMBNAIL_MAX:
        raise ApiError(400, "mediaBodyTooLarge", "The image is larger than 2 MB.")
    charge(request, 50)
    sim.thumbnails[video.id] = {"content_type": content_type, "size": len(body)}
    sim.stats["thumbnails"] += 1
    url = f"https://i.ytimg.com/vi/{video.id}/maxresdefault.jpg"
    return JSONResponse(
        {
            "kind": "youtube#thumbnailSetResponse",
            "etag": sim.new_id(27),
            "items": [{"default": {"url": url, "width": 120, "height": 90}}],
        }
    )
