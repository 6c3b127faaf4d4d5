"""Uploads to LinkedIn's Images, Videos and Documents APIs, before the post that uses them.

Image / document: initializeUpload {owner} -> uploadUrl + URN; PUT the bytes (bearer token).
Video: initializeUpload {owner, fileSizeBytes} -> uploadInstructions (byte ranges, ~4 MiB),
PUT each range and keep its ETag, finalizeUpload {video, uploadToken, uploadedPartIds}, then
poll GET /rest/videos/{urn} until AVAILABLE. No upload creates a post, so every failure here is
retryable or a refusal, never in doubt. Bytes stream from the media store in bounded pieces.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from herald.net.http_client import HttpResponse
from herald.platforms.base import MediaItem, RejectedError, RetryableError
from herald.platforms.linkedin.api import LinkedInApi
from herald.platforms.linkedin.errors import error_for

MAX_IMAGES = 20  # [docs] multiImage takes 2 to 20
_SUBJECT = "the media upload"


@dataclass(frozen=True)
class ProcessingWait:
    """How long a video may stay PROCESSING before the publish is tried again later."""

    budget_s: float = 600.0
    first_poll_s: float = 0.2
    max_poll_s: float = 10.0


def kind_of(item: MediaItem) -> str:
    if item.content_type == "application/pdf":
        return "document"
    return "video" if item.kind == "video" else "image"


def check_media(items: Sequence[MediaItem]) -> None:
    """LinkedIn takes one video, one document, or 1 to 20 images; never mixed."""
    kinds = [kind_of(item) for item in items]
    if len(set(kinds)) > 1:
        raise RejectedError("LinkedIn posts take images, a video or a document, never mixed")
    if kinds and kinds[0] != "image" and len(kinds) > 1:
        raise RejectedError(f"LinkedIn posts take one {kinds[0]}")
    if len(kinds) > MAX_IMAGES:
        raise RejectedError(f"LinkedIn posts take up to {MAX_IMAGES} images")


async def upload(api: LinkedInApi, owner: str, item: MediaItem, wait: ProcessingWait) -> str:
    """The URN of `item` uploaded for `owner`, ready to be posted."""
    kind = kind_of(item)
    if kind == "video":
        return await _upload_video(api, owner, item, wait)
    answer = await _initialize(api, f"/rest/{kind}s", {"owner": owner})
    url, urn = answer.get("uploadUrl"), answer.get(kind)
    if not isinstance(url, str) or not isinstance(urn, str):
        raise RetryableError(f"LinkedIn's {kind} upload answer had no uploadUrl or URN")
    _check_put(await api.put_bytes(url, _stream(item.open), with_token=True), api)
    return urn


async def _initialize(api: LinkedInApi, path: str, ask: dict[str, Any]) -> dict[str, Any]:
    response = await api.send(
        "POST", path, params={"action": "initializeUpload"}, json={"initializeUploadRequest": ask}
    )
    if response.status_code != 200:
        raise error_for(response, api.token, _SUBJECT, may_exist=False)
    try:
        value = response.json()["value"]
    except (ValueError, LookupError, TypeError):
        value = None
    if not isinstance(value, dict):
        raise RetryableError("LinkedIn's upload answer could not be read")
    return value


def _check_put(response: HttpResponse, api: LinkedInApi) -> None:
    if response.status_code not in (200, 201):
        raise error_for(response, api.token, _SUBJECT, may_exist=False)


async def _upload_video(api: LinkedInApi, owner: str, item: MediaItem, wait: ProcessingWait) -> str:
    size = item.size if item.size is not None else await _measure(item.open)
    ask = {"owner": owner, "fileSizeBytes": size, "uploadCaptions": False, "uploadThumbnail": False}
    answer = await _initialize(api, "/rest/videos", ask)
    urn, instructions = answer.get("video"), answer.get("uploadInstructions")
    if not isinstance(urn, str) or not isinstance(instructions, list):
        raise RetryableError("LinkedIn's video upload answer had no video URN or instructions")
    etags = []
    reader = _Parts(_stream(item.open))
    for part in instructions:
        try:
            url, first, last = part["uploadUrl"], int(part["firstByte"]), int(part["lastByte"])
        except (LookupError, TypeError, ValueError):
            raise RetryableError("LinkedIn's video upload instructions could not be read") from None
        chunk = await reader.take(first, last - first + 1)
        response = await api.put_bytes(str(url), chunk, with_token=False)
        _check_put(response, api)
        etag = response.headers.get("ETag")
        if not etag:
            raise RetryableError("LinkedIn accepted a video part without an ETag")
        etags.append(etag)
    finalize = {
        "video": urn,
        "uploadToken": answer.get("uploadToken") or "",
        "uploadedPartIds": etags,
    }
    response = await api.send(
        "POST",
        "/rest/videos",
        params={"action": "finalizeUpload"},
        json={"finalizeUploadRequest": finalize},
    )
    if response.status_code not in (200, 201, 204):
        raise error_for(response, api.token, _SUBJECT, may_exist=False)
    await _available(api, urn, wait)
    return urn


async def _available(api: LinkedInApi, urn: str, wait: ProcessingWait) -> None:
    waited, delay = 0.0, wait.first_poll_s
    while True:
        response = await api.send("GET", f"/rest/videos/{quote(urn, safe='')}")
        if response.status_code != 200:
            raise error_for(response, api.token, _SUBJECT, may_exist=False)
        try:
            status = response.json().get("status")
        except (ValueError, AttributeError):
            status = None
        if status == "AVAILABLE":
            return
        if status == "PROCESSING_FAILED":
            raise RejectedError("LinkedIn could not process the video")
        if waited >= wait.budget_s:
            raise RetryableError(f"LinkedIn was still processing the video after {waited:g} s")
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, wait.max_poll_s)


async def _stream(opener: Callable[[], AsyncIterator[bytes]] | None) -> AsyncIterator[bytes]:
    if opener is None:
        raise RetryableError("The media file has no bytes to upload")
    try:
        async for piece in opener():
            yield piece
    except Exception as exc:  # the store's own errors, which connectors cannot import
        raise RetryableError(f"Could not read the media file ({type(exc).__name__})") from exc


async def _measure(opener: Callable[[], AsyncIterator[bytes]] | None) -> int:
    """The byte count of a file whose size the store did not say, read once as it streams."""
    return sum([len(piece) async for piece in _stream(opener)])


class _Parts:
    """Consecutive byte ranges of a stream, one part (a few MiB) in memory at a time."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._offset = 0  # of the buffer's first byte in the file

    async def take(self, first: int, length: int) -> bytes:
        if first != self._offset:
            raise RetryableError("LinkedIn's video upload instructions are not consecutive")
        while len(self._buffer) < length:
            piece = await anext(self._stream, None)
            if piece is None:
                raise RetryableError("The video ended before LinkedIn's last part")
            self._buffer += piece
        chunk = bytes(self._buffer[:length])
        del self._buffer[:length]
        self._offset += length
        return chunk
