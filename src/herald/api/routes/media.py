"""Media: get-upload-url, and for the local backend the signed upload PUT and the file URLs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.routes._docs import errors
from herald.api.schemas.base import request_body_doc, wire
from herald.api.schemas.media import UploadUrlRequest, UploadUrlResponse, parse_upload_request
from herald.domain.media_rules import accepted_type, describe_bytes
from herald.domain.timestamps import format_timestamp, utc_now
from herald.errors import AppError, NotFoundError, PayloadTooLargeError
from herald.media.local import LocalMediaStore, UploadRefused, UploadTooLarge
from herald.services import media as media_service

router = APIRouter(tags=["media"])
files_router = APIRouter(include_in_schema=False)
UPLOAD_PATH = "/media/upload/"
# Files are served on the API's origin: whatever a file holds, the browser must neither guess
# another type for it (nosniff) nor run anything in it (no sources, a sandboxed origin).
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}

_REFUSALS = {
    "expired": "Upload URL expired",
    "bad_signature": "Invalid upload signature",
    "content_type_mismatch": "Content-Type does not match the upload URL",
}


class UploadForbiddenError(AppError):
    status_code = 403
    code = "UPLOAD_REFUSED"


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"Files are limited to {describe_bytes(limit)}")


@router.post(
    "/get-upload-url",
    responses={200: {"model": UploadUrlResponse}, **errors(400, 404)},
    openapi_extra=request_body_doc(UploadUrlRequest),
)
async def get_upload_url(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    upload = parse_upload_request(body)
    async with context.transaction() as session:
        media, ticket = await media_service.request_upload(
            session, context.media_store, principal.account_id, upload, utc_now()
        )
    return wire(
        UploadUrlResponse(
            upload_url=ticket.upload_url,
            file_url=ticket.file_url,
            media_id=media.id,
            expires_at=format_timestamp(ticket.expires_at),
        )
    )


def _local_store(context: Context) -> LocalMediaStore:
    store = context.media_store
    if not isinstance(store, LocalMediaStore):  # with S3 the bucket serves these URLs
        raise NotFoundError("Not found")
    return store


@files_router.put(UPLOAD_PATH + "{key:path}")
async def upload(key: str, request: Request, context: Context) -> JSONResponse:
    """The signed PUT of the local backend: the body is streamed to disk, never held in memory."""
    store = _local_store(context)
    params = request.query_params
    try:
        store.verify_upload(
            key,
            params.get("expires", ""),
            params.get("contentType", ""),
            params.get("signature", ""),
            request.headers.get("content-type"),
            utc_now(),
        )
    except UploadRefused as exc:
        raise UploadForbiddenError(_REFUSALS.get(exc.reason, "Upload refused")) from exc
    except ValueError as exc:  # a key that is not one of ours
        raise UploadForbiddenError("Invalid upload signature") from exc
    limit = context.settings.media_max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    async with context.transaction(write=False) as session:
        media_id = (await media_service.awaiting_upload(session, key)).id
    try:
        size = await store.receive(key, request.stream(), limit)
    except UploadTooLarge as exc:
        raise _too_large(limit) from exc
    async with context.transaction() as session:
        kept = await media_service.complete_upload(session, key, size)
    if not kept:  # the post was deleted while the file was arriving
        await store.delete(key)
        raise media_service.media_not_found()
    return JSONResponse({"success": True, "mediaId": media_id, "size": size})


@files_router.get("/media/files/{key:path}", response_model=None)
async def file(key: str, context: Context) -> Response:
    store = _local_store(context)
    try:
        stored = await store.stat(key)
    except ValueError:
        stored = None
    if stored is None:
        raise NotFoundError("Not found")
    path = store.path_for(key)
    shown = accepted_type(stored.content_type)
    if shown is None:
        # Only files kept from before types were an allowlist: saved, never shown.
        return FileResponse(
            path,
            media_type="application/octet-stream",
            filename=path.name,
            headers=MEDIA_HEADERS,
        )
    return FileResponse(path, media_type=shown, headers=MEDIA_HEADERS)
