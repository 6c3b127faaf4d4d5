"""TikTok's Content Posting API and user info [docs: developers.tiktok.com/doc/
content-posting-api-reference-direct-post, -upload-video, -photo-post, -get-video-status;
tiktok-api-v2-user-info]."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.control import base_url
from herald.sim.tiktok.state import MB, Post, TikTokSim

_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
MIN_CHUNK, MAX_CHUNK, MAX_LAST = 5 * MB, 64 * MB, 128 * MB


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def envelope(
    data: dict[str, Any] | None = None, code: str = "ok", message: str = ""
) -> dict[str, Any]:
    """Every answer: {"data", "error": {"code", "message", "log_id"}} [docs]."""
    return {
        "data": data or {},
        "error": {"code": code, "message": message, "log_id": secrets.token_hex(16)},
    }


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
    return JSONResponse(envelope(None, exc.code, exc.message), status_code=exc.status)


def sim_of(request: Request) -> TikTokSim:
    sim: TikTokSim = request.app.state.tiktok
    return sim


async def authorised(request: Request, scope: str) -> TikTokSim:
    sim = sim_of(request)
    if sim.config.latency_ms:
        await asyncio.sleep(sim.config.latency_ms / 1000)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    granted = sim.scope_of(token) if scheme.lower() == "bearer" else None
    if granted is None:
        raise ApiError(
            401, "access_token_invalid", "The access token is invalid or not found in the request."
        )
    if scope not in granted.split(","):
        raise ApiError(
            401,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        )
    return sim


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise ApiError(400, "invalid_params", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_params", "The request body must be an object.")
    return body


async def user_info(request: Request) -> Response:
    sim = await authorised(request, "user.info.basic")
    config = sim.config
    user = {
        "open_id": config.open_id,
        "union_id": "u-" + config.open_id,
        "avatar_url": f"https://p16.tiktokcdn.com/{config.username}.jpeg",
        "display_name": config.display_name,
        "username": config.username,
    }
    wanted = request.query_params.get("fields", "open_id").split(",")
    return JSONResponse(envelope({"user": {k: v for k, v in user.items() if k in wanted}}))


async def creator_info(request: Request) -> Response:
    sim = await authorised(request, "video.publish")
    sim.stats["creator_queries"] += 1
    config = sim.config
    return JSONResponse(
        envelope(
            {
                "creator_avatar_url": f"https://p16.tiktokcdn.com/{config.username}.jpeg",
                "creator_username": config.username,
                "creator_nickname": config.display_name,
                "privacy_level_options": list(config.privacy_level_options),
                "comment_disabled": config.comment_disabled,
                "duet_disabled": config.duet_disabled,
                "stitch_disabled": config.stitch_disabled,
                "max_video_post_duration_sec": config.max_video_post_duration_sec,
            }
        )
    )


def _check_post_info(sim: TikTokSim, info: object, photo: bool) -> dict[str, Any]:
    if not isinstance(info, dict):
        raise ApiError(400, "invalid_params", "post_info is required.")
    config = sim.config
    if info.get("privacy_level") not in config.privacy_level_options:
        raise ApiError(
            400,
            "privacy_level_option_mismatch",
            "privacy_level is not one of the creator's privacy_level_options.",
        )
    title = info.get("title", "")
    if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > (90 if photo else 2200):
        raise ApiError(400, "invalid_params", "The title is too long.")
    if not info.get("disable_comment") and config.comment_disabled:
        raise ApiError(400, "invalid_params", "Comments are disabled for this creator.")
    if not photo and not info.get("disable_duet") and config.duet_disabled:
        raise ApiError(400, "invalid_params", "Duets are disabled for this creator.")
    if not photo and not info.get("disable_stitch") and config.stitch_disabled:
        raise ApiError(400, "invalid_params", "Stitches are disabled for this creator.")
    return dict(info)


async def init_video(request: Request) -> Response:
    """POST /v2/post/publish/video/init/: FILE_UPLOAD {video_size, chunk_size,
    total_chunk_count} (under 5 MB one chunk of the whole file; else 5-64 MB chunks,
    count = floor(size / chunk), the last up to 128 MB) or PULL_FROM_URL {video_url}."""
    sim = await authorised(request, "video.publish")
    body = await _body(request)
    info = _check_post_info(sim, body.get("post_info"), photo=False)
    source = body.get("source_info")
    if not isinstance(source, dict) or source.get("source") not in ("FILE_UPLOAD", "PULL_FROM_URL"):
        raise ApiError(400, "invalid_params", "source_info.source is invalid.")
    if source["source"] == "PULL_FROM_URL":
        url = source.get("video_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ApiError(400, "invalid_params", "video_url is invalid.")
        post = sim.new_post("video", "PULL_FROM_URL", info)
        post.urls = [url]
        sim.complete(post)  # [chosen] the simulator does not fetch: it takes the URL as pulled
        return JSONResponse(envelope({"publish_id": post.publish_id}))
    size, chunk, count = (source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count"))
    if not all(isinstance(v, int) and v > 0 for v in (size, chunk, count)):
        raise ApiError(
            400, "invalid_params", "video_size, chunk_size and total_chunk_count are required."
        )
    assert isinstance(size, int)  # noqa: S101 - checked above, for the type checker
    assert isinstance(chunk, int)  # noqa: S101
    assert isinstance(count, int)  # noqa: S101
    whole = size < MIN_CHUNK and (chunk, count) == (size, 1)
    chunked = (
        MIN_CHUNK <= chunk <= MAX_CHUNK
        and count == size // chunk
        and count <= 1000
        and size - chunk * (count - 1) <= MAX_LAST
    )
    if not (whole or chunked):
        raise ApiError(400, "invalid_params", "The chunk_size or total_chunk_count is invalid.")
    post = sim.new_post("video", "FILE_UPLOAD", info)
    post.size, post.chunk_size, post.chunk_count = size, chunk, count
    token = secrets.token_hex(8)
    upload_url = f"{base_url(request)}/upload/?upload_id={post.publish_id}&upload_token={token}"
    return JSONResponse(envelope({"publish_id": post.publish_id, "upload_url": upload_url}))


async def init_content(request: Request) -> Response:
    """POST /v2/post/publish/content/init/: a photo post, PULL_FROM_URL, up to 35 images."""
    sim = await authorised(request, "video.publish")
    body = await _body(request)
    if body.get("media_type") != "PHOTO" or body.get("post_mode") not in (
        "DIRECT_POST",
        "MEDIA_UPLOAD",
    ):
        raise ApiError(400, "invalid_params", "media_type or post_mode is invalid.")
    info = _check_post_info(sim, body.get("post_info"), photo=True)
    found = body.get("source_info")
    source: dict[str, Any] = found if isinstance(found, dict) else {}
    images = source.get("photo_images")
    if (
        not isinstance(images, list)
        or not 1 <= len(images) <= 35
        or not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in images)
        or source.get("source") != "PULL_FROM_URL"
    ):
        raise ApiError(400, "invalid_params", "source_info.photo_images is invalid.")
    post = sim.new_post("photo", "PULL_FROM_URL", info)
    post.urls = list(images)
    sim.complete(post)
    return JSONResponse(envelope({"publish_id": post.publish_id}))


async def upload(request: Request) -> Response:
    """PUT upload_url: chunks in order, `Content-Range: bytes a-b/N`; 206 until the last, then
    201 [docs]. No token: the URL is the credential."""
    sim = sim_of(request)
    post = sim.posts.get(request.query_params.get("upload_id", ""))
    if post is None or post.source != "FILE_UPLOAD" or post.complete_at is not None:
        raise ApiError(404, "invalid_file_upload", "The upload URL is invalid or expired.")
    found = _RANGE.fullmatch(request.headers.get("content-range", "").strip())
    if found is None or int(found[3]) != post.size or int(found[1]) != post.received:
        raise ApiError(400, "invalid_file_upload", "Content-Range does not follow the upload.")
    digest, received = post.digest.copy(), 0
    async for piece in request.stream():
        digest.update(piece)
        received += len(piece)
    if received != int(found[2]) - int(found[1]) + 1:
        raise ApiError(400, "invalid_file_upload", "Content-Range does not match the body.")
    post.digest, post.received = digest, post.received + received
    sim.stats["chunks"] += 1
    sim.stats["bytes_received"] += received
    if post.received >= post.size:
        sim.complete(post)
        return Response(status_code=201)
    return Response(status_code=206)


async def status_fetch(request: Request) -> Response:
    sim = await authorised(request, "video.publish")
    sim.stats["status_fetches"] += 1
    post = sim.posts.get(str((await _body(request)).get("publish_id", "")))
    if post is None:
        raise ApiError(400, "invalid_publish_id", "The publish_id does not exist.")
    state = post.status(sim.config.processing_s)
    data: dict[str, Any] = {"status": state, "uploaded_bytes": post.received}
    if state == "PUBLISH_COMPLETE":
        data["publicaly_available_post_id"] = [post.post_id]  # sic [docs]
    return JSONResponse(envelope(data))


def post_wire(post: Post) -> dict[str, Any]:
    return {
        "publish_id": post.publish_id,
        "kind": post.kind,
        "source": post.source,
        "post_info": post.post_info,
        "size": post.received,
        "sha256": post.digest.hexdigest(),
        "urls": post.urls,
        "post_id": post.post_id,
    }
