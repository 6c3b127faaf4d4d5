"""The simulator's media endpoints: multipart uploads, checked as Mastodon does, and the
processing state that video, GIF and audio go through before a status may use them."""

from __future__ import annotations

import hashlib
import time
from pathlib import PurePosixPath

from starlette.requests import Request
from starlette.responses import Response

from herald.sim.control import base_url
from herald.sim.mastodon_config import MIB
from herald.sim.mastodon_entities import MEDIA_KINDS, media_entity
from herald.sim.mastodon_http import NOT_FOUND, ApiError, authenticate, respond, sim_of
from herald.sim.mastodon_multipart import MultipartError, MultipartReader, PartHeader, boundary_of
from herald.sim.mastodon_state import ASYNC_KINDS, SimMedia

PROCESSING_ERROR = "Error processing thumbnail for uploaded media"
PARSE_ERROR = "Error occurred while parsing request parameters"
FILE_BLANK = "Validation failed: File can't be blank"
FIELD_CAP = 64 * 1024  # form fields besides the file are short; more is not a real client


class _UploadForm:
    """A PartSink that hashes and counts the file's bytes without keeping them, and keeps the
    other (small) fields whole."""

    def __init__(self) -> None:
        self.file: PartHeader | None = None
        self.size = 0
        self.digest = hashlib.sha256()
        self.fields: dict[str, bytearray] = {}
        self._into_file = False
        self._field = bytearray()

    def start(self, part: PartHeader) -> None:
        # Rack treats a part as a file only when it has a filename.
        self._into_file = part.name == "file" and part.filename is not None
        if self._into_file:
            self.file, self.size, self.digest = part, 0, hashlib.sha256()
        else:
            self.fields[part.name] = bytearray()
            self._field = self.fields[part.name]

    def data(self, chunk: bytes) -> None:
        if self._into_file:
            self.size += len(chunk)
            self.digest.update(chunk)
            return
        if len(self._field) + len(chunk) > FIELD_CAP:
            raise MultipartError("a form field is too long")
        self._field += chunk

    def end(self) -> None:
        self._into_file = False

    def text(self, name: str) -> str | None:
        raw = self.fields.get(name)
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(422, f"Validation failed: {name.capitalize()} is invalid") from None


async def upload_media(request: Request) -> Response:
    """POST /api/v2/media: 200 when processed at once (images), 202 while processing."""
    sim = sim_of(request)
    sim.stats.uploads += 1
    account = await authenticate(request)
    form = await _read_form(request)
    if form.file is None:
        raise ApiError(422, FILE_BLANK)
    content_type = (form.file.content_type or "").partition(";")[0].strip().lower()
    kind = MEDIA_KINDS.get(content_type)
    if kind is None:
        raise ApiError(422, "Validation failed: File content type is invalid, File is invalid")
    config = sim.config
    size_limit = config.video_size_limit if kind in ASYNC_KINDS else config.image_size_limit
    if form.size > size_limit:
        raise ApiError(
            422, f"Validation failed: File file size must be less than {_human(size_limit)}"
        )
    description = form.text("description")
    if description is not None and len(description) > config.description_limit:
        limit = config.description_limit
        raise ApiError(
            422, f"Validation failed: Description is too long (maximum is {limit} characters)"
        )
    background = kind in ASYNC_KINDS
    outcome = sim.next_media_outcome()
    if outcome == "fail" and not background:
        raise ApiError(500, PROCESSING_ERROR)  # images are processed during the request
    media_id = sim.new_id()
    delay = config.processing_delay_s if background else 0.0
    media = SimMedia(
        id=media_id,
        account_id=account.id,
        kind=kind,
        content_type=content_type,
        filename=media_id + _extension(form.file.filename),
        size=form.size,
        sha256=form.digest.hexdigest(),
        description=description or None,
        ready_at=time.monotonic() + delay,
        failed=outcome == "fail",
    )
    sim.add_media(media)
    return respond(request, media_entity(media, base_url(request)), 202 if background else 200)


async def show_media(request: Request) -> Response:
    """GET /api/v1/media/{id}: 206 while processing, 200 when done, 422 when it failed."""
    sim = sim_of(request)
    sim.stats.polls += 1
    account = await authenticate(request)
    media = sim.media.get(request.path_params["id"])
    # Mastodon looks among the caller's media not yet attached to a status.
    if media is None or media.account_id != account.id or media.status_id is not None:
        raise ApiError(404, NOT_FOUND)
    if media.processing():
        sim.stats.still_processing += 1
        return respond(request, media_entity(media, base_url(request)), 206)
    if media.failed:
        raise ApiError(422, PROCESSING_ERROR)
    return respond(request, media_entity(media, base_url(request)))


async def _read_form(request: Request) -> _UploadForm:
    form = _UploadForm()
    boundary = boundary_of(request.headers.get("content-type", ""))
    if boundary is None:
        return form  # no multipart body: no file either
    reader = MultipartReader(boundary, form)
    try:
        async for chunk in request.stream():
            reader.feed(chunk)
        reader.close()
    except MultipartError:
        raise ApiError(400, PARSE_ERROR) from None
    return form


def _extension(filename: str | None) -> str:
    suffix = PurePosixPath(filename or "").suffix.lower()
    return suffix if 1 < len(suffix) <= 6 and suffix[1:].isalnum() else ""


def _human(size: int) -> str:
    """Rails' number_to_human_size, for the sizes instances configure."""
    if size >= MIB:
        return f"{round(size / MIB, 1):g} MB"
    if size >= 1024:
        return f"{round(size / 1024, 1):g} KB"
    return f"{size} Bytes"
