"""A post's media to X: the v2 chunked upload (initialize, append, finalize), waiting out the
processing video and GIFs go through (STATUS polls), and alt text (media metadata).

No tweet exists yet while media upload, so every failure here is retryable unless X refuses the
file. A retried publish uploads again; unused media ids expire on X's side by themselves."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from herald.net.http_client import HttpResponse
from herald.platforms.base import MediaItem, RejectedError, RetryableError
from herald.platforms.x.api import XApi
from herald.platforms.x.errors import error_for

_SUBJECT = "the media file"
MAX_ALT_TEXT = 1000  # X's limit on alt text, in characters
MiB = 1024 * 1024
# X's upper bounds per kind (docs: media best practices): images 5 MB, animated GIFs 15 MB,
# video 512 MB. A file over them is refused before a byte goes out.
MAX_BYTES = {"image": 5 * MiB, "gif": 15 * MiB, "video": 512 * MiB}


@dataclass(frozen=True)
class UploadRules:
    """How Herald uploads to X: chunk size (X takes at most 5 MB per append), and how long it
    waits for processing: X's `check_after_secs` hint, bounded by `min_poll_s`..`max_poll_s`,
    for at most `budget_s` in all."""

    chunk_bytes: int = 4 * MiB
    min_poll_s: float = 1.0
    max_poll_s: float = 10.0
    budget_s: float = 300.0

    def __post_init__(self) -> None:
        if not (0 < self.chunk_bytes <= 5 * MiB and 0 < self.min_poll_s <= self.max_poll_s):
            raise ValueError("chunks must be 1 byte to 5 MiB, and poll delays positive and ordered")


class _MediaUnreadableError(Exception):
    """Reading the file from Herald's media store failed mid-upload."""


def category(item: MediaItem) -> tuple[str, str]:
    """X's media category for the item, and the kind whose size limit applies."""
    if item.kind == "video":
        return "tweet_video", "video"
    if item.content_type == "image/gif":
        return "tweet_gif", "gif"
    return "tweet_image", "image"


def check_media(items: Sequence[MediaItem]) -> None:
    """Refuse what X cannot take before anything is uploaded."""
    for item in items:
        if item.open is None:
            raise RejectedError("X needs the media file's bytes, and Herald has none to send")
        _, kind = category(item)
        if item.size is not None and item.size > MAX_BYTES[kind]:
            raise RejectedError(
                f"X takes {kind} files up to {MAX_BYTES[kind] // MiB} MB; this one has "
                f"{item.size:,} bytes"
            )


async def upload_media(api: XApi, item: MediaItem, rules: UploadRules) -> str:
    """Upload one file and return its media id once X can attach it to a tweet."""
    media_category, kind = category(item)
    opener = item.open
    if opener is None:
        raise RejectedError("X needs the media file's bytes, and Herald has none to send")
    size, chunks = item.size, _chunks(opener, rules.chunk_bytes)
    if size is None:  # not known beforehand (a converted file): read it, within X's limit
        whole = await _read_all(opener, MAX_BYTES[kind])
        size, chunks = len(whole), _slices(whole, rules.chunk_bytes)
    body = {"media_type": item.content_type, "total_bytes": size, "media_category": media_category}
    response = await api.send("POST", "/2/media/upload/initialize", json=body)
    if response.status_code not in (200, 201, 202):
        raise error_for(response, api.token, _SUBJECT, may_exist=False)
    media_id = _media_id(response)
    path = f"/2/media/upload/{quote(media_id, safe='')}"
    sent = await _append_all(api, path, chunks)
    if sent != size:
        raise RetryableError(
            f"The media file changed while it was uploaded to X ({sent:,} bytes, not {size:,})"
        )
    response = await api.send("POST", f"{path}/finalize")
    if response.status_code not in (200, 201, 202):
        raise error_for(response, api.token, _SUBJECT, may_exist=False)
    processing = _processing(response)
    if processing is not None and processing.get("state") != "succeeded":
        await _processed(api, media_id, processing, rules)
    if item.alt_text:
        await _describe(api, media_id, item.alt_text)
    return media_id


async def _append_all(api: XApi, path: str, chunks: AsyncIterator[bytes]) -> int:
    sent, segment = 0, 0
    try:
        async for chunk in chunks:
            boundary = f"herald-{secrets.token_hex(16)}"
            response = await api.send(
                "POST",
                f"{path}/append",
                content=_append_form(boundary, segment, chunk),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            if response.status_code not in (200, 201, 202, 204):
                raise error_for(response, api.token, _SUBJECT, may_exist=False)
            sent, segment = sent + len(chunk), segment + 1
    except _MediaUnreadableError as exc:
        message = f"Could not read the media file to upload it to X ({exc})"
        raise RetryableError(message) from None
    return sent


def _append_form(boundary: str, segment: int, chunk: bytes) -> bytes:
    """multipart/form-data with `segment_index` and the chunk as `media`, as X's append takes."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="segment_index"\r\n\r\n'
        f'{segment}\r\n--{boundary}\r\nContent-Disposition: form-data; name="media"; '
        f'filename="chunk"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    return head.encode() + chunk + f"\r\n--{boundary}--\r\n".encode()


async def _chunks(opener: Callable[[], AsyncIterator[bytes]], size: int) -> AsyncIterator[bytes]:
    """The file in chunks of `size` bytes (the last one shorter), read as it streams."""
    buffer = bytearray()
    try:
        async for piece in opener():
            buffer += piece
            while len(buffer) >= size:
                yield bytes(buffer[:size])
                del buffer[:size]
    except Exception as exc:  # the store's own errors, which connectors cannot import
        raise _MediaUnreadableError(type(exc).__name__) from exc
    if buffer:
        yield bytes(buffer)


async def _read_all(opener: Callable[[], AsyncIterator[bytes]], limit: int) -> bytes:
    data = bytearray()
    try:
        async for piece in opener():
            data += piece
            if len(data) > limit:
                raise RejectedError(f"X takes files of this kind up to {limit // MiB} MB")
    except RejectedError:
        raise
    except Exception as exc:
        message = f"Could not read the media file to upload it to X ({type(exc).__name__})"
        raise RetryableError(message) from exc
    return bytes(data)


async def _slices(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _processed(
    api: XApi, media_id: str, processing: dict[str, Any], rules: UploadRules
) -> None:
    """Poll STATUS until X has processed the upload, honouring its `check_after_secs`."""
    waited = 0.0
    while True:
        state = processing.get("state")
        if state == "succeeded":
            return
        if state == "failed":
            error = processing.get("error")
            detail = error.get("message") if isinstance(error, dict) else None
            raise RejectedError(
                f"X could not process {_SUBJECT}"
                + (f": {detail}" if isinstance(detail, str) and detail else "")
            )
        if waited >= rules.budget_s:
            raise RetryableError(
                f"X was still processing {_SUBJECT} after {rules.budget_s:g} s; trying again later"
            )
        hint = processing.get("check_after_secs")
        delay = hint if isinstance(hint, int | float) and not isinstance(hint, bool) else 0
        delay = min(max(float(delay), rules.min_poll_s), rules.max_poll_s, rules.budget_s - waited)
        await asyncio.sleep(delay)
        waited += delay
        params = {"command": "STATUS", "media_id": media_id}
        response = await api.send("GET", "/2/media/upload", params=params)
        if response.status_code != 200:
            raise error_for(response, api.token, _SUBJECT, may_exist=False)
        processing = _processing(response) or {"state": "succeeded"}


async def _describe(api: XApi, media_id: str, alt_text: str) -> None:
    body = {"id": media_id, "metadata": {"alt_text": {"text": alt_text[:MAX_ALT_TEXT]}}}
    response = await api.send("POST", "/2/media/metadata", json=body)
    if response.is_success:
        return
    error = error_for(response, api.token, "the media file's alt text", may_exist=False)
    # A description X refuses for good does not stop the post: the image goes out without it.
    # Anything a retry or a new token may fix is raised, and the whole publish runs again.
    if not isinstance(error, RejectedError):
        raise error


def _data(response: HttpResponse) -> dict[str, Any]:
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        data = None
    return data if isinstance(data, dict) else {}


def _media_id(response: HttpResponse) -> str:
    media_id = _data(response).get("id")
    if not isinstance(media_id, str) or not media_id:
        raise RetryableError(
            f"X accepted {_SUBJECT} but its answer had no media id",
            http_status=response.status_code,
        )
    return media_id


def _processing(response: HttpResponse) -> dict[str, Any] | None:
    info = _data(response).get("processing_info")
    return info if isinstance(info, dict) else None
