"""POST /upload-youtube-thumbnail and /upload-instagram-cover: multipart image uploads."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from herald.api.deps import Context, CurrentPrincipal
from herald.api.routes._docs import errors
from herald.api.schemas.base import WireModel, wire
from herald.domain.artwork import (
    FORM_OVERHEAD_BYTES,
    INSTAGRAM_COVER,
    YOUTUBE_THUMBNAIL,
    ArtworkRule,
)
from herald.domain.timestamps import utc_now
from herald.services import artwork as artworks

router = APIRouter(tags=["media"])
THUMBNAIL_PATH = "/upload-youtube-thumbnail"
COVER_PATH = "/upload-instagram-cover"
COVER_MESSAGE = (
    "Set platformSettings.instagram.coverUrl to cover.url via /update-post to use this image "
    "as the Reels cover."
)


class StoredImage(WireModel):
    media_id: str
    url: str


class ThumbnailResponse(WireModel):
    success: bool = True
    thumbnail: StoredImage


class CoverResponse(WireModel):
    success: bool = True
    cover: StoredImage
    message: str = COVER_MESSAGE


def body_limit(path: str) -> int | None:
    """The body cap of these routes (the JSON cap is far smaller), for the size middleware."""
    for route, rule in ((THUMBNAIL_PATH, YOUTUBE_THUMBNAIL), (COVER_PATH, INSTAGRAM_COVER)):
        if path.endswith(route):
            return rule.max_bytes + FORM_OVERHEAD_BYTES
    return None


_FORM_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "postGroupId": {"type": "string"},
                        "thumbnail": {"type": "string", "format": "binary"},
                        "cover": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


async def _upload(
    rule: ArtworkRule, request: Request, context: Context, account_id: str
) -> StoredImage:
    async with request.form(max_files=2, max_fields=8) as form:
        group_id = artworks.check_group_id(rule, form.get("postGroupId"))
        upload = form.get(rule.field)
        data = await upload.read() if isinstance(upload, UploadFile) else b""
    async with context.transaction(write=False) as session:
        await artworks.editable_group(session, account_id, group_id, rule)
    image = await asyncio.to_thread(artworks.prepare, rule, data)
    artwork_id, key = artworks.storage_key(group_id, rule, image)
    await context.media_store.put(key, image.content_type, image.data)
    url = context.media_store.public_url(key)
    async with context.transaction() as session:
        # Checked again under the write lock: publishing may have begun meanwhile.
        group = await artworks.editable_group(session, account_id, group_id, rule)
        await artworks.record(session, group, rule, image, artwork_id, key, url, utc_now())
    return StoredImage(media_id=artwork_id, url=url)


@router.post(
    THUMBNAIL_PATH,
    responses={200: {"model": ThumbnailResponse}, **errors(400, 404, 409)},
    openapi_extra=_FORM_DOC,
)
async def upload_youtube_thumbnail(
    request: Request, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    stored = await _upload(YOUTUBE_THUMBNAIL, request, context, principal.account_id)
    return wire(ThumbnailResponse(thumbnail=stored))


@router.post(
    COVER_PATH,
    responses={200: {"model": CoverResponse}, **errors(400, 404, 409)},
    openapi_extra=_FORM_DOC,
)
async def upload_instagram_cover(
    request: Request, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    stored = await _upload(INSTAGRAM_COVER, request, context, principal.account_id)
    return wire(CoverResponse(cover=stored))
