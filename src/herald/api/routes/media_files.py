"""POST /complete-media/:mediaFileId and DELETE /media/:mediaId."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from herald.api.deps import Context, CurrentPrincipal
from herald.api.routes._docs import errors
from herald.api.schemas.base import WireModel, omitted_when_none, wire
from herald.domain.timestamps import utc_now
from herald.services import media_files
from herald.services.media import delete_files

router = APIRouter(tags=["media"])


class MediaFileRead(WireModel):
    id: str = Field(alias="_id")
    type: str | None
    mime_type: str | None
    file_name: str | None
    url: str | None = Field(json_schema_extra={"format": "uri"})
    status: str | None = Field(description="uploading, ready or failed")
    metadata: dict[str, Any] | None


class CompleteMediaResponse(WireModel):
    success: bool = True
    media_file: MediaFileRead


class DeleteMediaResponse(WireModel):
    success: bool = True
    post_group_demoted: bool | None = omitted_when_none("A scheduled post became a draft")
    message: str | None = omitted_when_none("What happened to the post")
    thumbnail_cleared: bool | None = omitted_when_none("platformSettings.youtube.thumbnail")
    cover_cleared: bool | None = omitted_when_none("platformSettings.instagram.coverUrl")


@router.post(
    "/complete-media/{media_file_id}",
    responses={200: {"model": CompleteMediaResponse}, **errors(404)},
)
async def complete_media(
    media_file_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction(write=False) as session:
        media = await media_files.find_media(session, principal.account_id, media_file_id)
        key, waiting = media.storage_key, media.status == "awaiting_upload"
    # Storage is asked outside any transaction (S3 is a network call).
    stored = await context.media_store.stat(key) if waiting else None
    async with context.transaction() as session:
        media = await media_files.settle_upload(
            session,
            principal.account_id,
            media_file_id,
            stored,
            context.settings.media_max_upload_bytes,
        )
        return wire(
            CompleteMediaResponse(
                media_file=MediaFileRead.model_validate(media_files.media_file(media))
            )
        )


@router.delete(
    "/media/{media_id}",
    responses={200: {"model": DeleteMediaResponse}, **errors(400, 404, 409)},
)
async def delete_media(
    media_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction() as session:
        removal = await media_files.delete_media(session, principal.account_id, media_id, utc_now())
    # After the commit, best effort: a failure leaves an orphan file, never a dangling row.
    await delete_files(context.media_store, [removal.storage_key])
    context.wake_publisher()
    return wire(DeleteMediaResponse.model_validate(removal.answer))
