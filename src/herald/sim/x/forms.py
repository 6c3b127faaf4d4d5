"""The bodies of X's media upload calls: JSON (the media base64-encoded) or multipart/form-data
(the media as raw bytes), read into one shape."""

from __future__ import annotations

import base64
import binascii
import json

from starlette.requests import Request

from herald.sim.mastodon_multipart import MultipartError, MultipartReader, PartHeader, boundary_of
from herald.sim.x.http import invalid_request

PART_CAP = 16 * 1024 * 1024  # larger than any chunk or one-shot upload X takes


class _Parts:
    """A PartSink keeping each part whole, up to PART_CAP bytes each."""

    def __init__(self) -> None:
        self.parts: dict[str, bytearray] = {}
        self._current = bytearray()

    def start(self, part: PartHeader) -> None:
        self._current = self.parts[part.name] = bytearray()

    def data(self, chunk: bytes) -> None:
        if len(self._current) + len(chunk) > PART_CAP:
            raise MultipartError("a part is too large")
        self._current += chunk

    def end(self) -> None:
        self._current = bytearray()


class UploadBody:
    """Text fields and the `media` bytes of one upload request."""

    def __init__(self, fields: dict[str, object], media: bytes | None) -> None:
        self.fields = fields
        self.media = media

    def text(self, name: str) -> str | None:
        value = self.fields.get(name)
        return None if value is None else str(value)


async def read_upload(request: Request) -> UploadBody:
    """The body as fields and media; X's 400 when it is neither JSON nor multipart."""
    boundary = boundary_of(request.headers.get("content-type", ""))
    if boundary is not None:
        sink = _Parts()
        reader = MultipartReader(boundary, sink)
        try:
            async for chunk in request.stream():
                reader.feed(chunk)
            reader.close()
        except MultipartError:
            raise invalid_request("media", "", "The multipart body is malformed.") from None
        media = sink.parts.pop("media", None)
        fields: dict[str, object] = {k: v.decode("utf-8", "replace") for k, v in sink.parts.items()}
        return UploadBody(fields, bytes(media) if media is not None else None)
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise invalid_request("body", "", "The body must be JSON or multipart/form-data.")
    encoded = body.pop("media", None)
    if encoded is None:
        return UploadBody(body, None)
    if not isinstance(encoded, str):
        raise invalid_request("media", "", "media must be base64-encoded in a JSON body")
    try:
        return UploadBody(body, base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise invalid_request("media", "", "media must be base64-encoded in a JSON body") from None
