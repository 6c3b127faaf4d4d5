"""A post's media to Mastodon: a streamed multipart upload, then waiting out the processing
that video, GIF and audio go through before a status may use them."""

from __future__ import annotations

import asyncio
import mimetypes
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from herald.net.http_client import (
    HttpResponse,
)
from herald.platforms.base import MediaItem, RejectedError, RetryableError
from herald.platforms.mastodon.api import MastodonApi
from herald.platforms.mastodon.errors import error_for, platform_message

_MIME_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
_SUBJECT = "the media file"


@dataclass(frozen=True)
class ProcessingWait:
    """How long to wait for Mastodon to process an upload: polls at growing intervals, from
    `first_delay_s` up to `max_delay_s`, for at most `budget_s` in all."""

    first_delay_s: float = 1.0
    factor: float = 1.5
    max_delay_s: float = 5.0
    budget_s: float = 120.0

    def __post_init__(self) -> None:
        if not (0 < self.first_delay_s <= self.max_delay_s and self.factor >= 1):
            raise ValueError("delays must be positive, growing, and start below their maximum")

    def delays(self) -> Iterator[float]:
        waited, delay = 0.0, self.first_delay_s
        while (remaining := self.budget_s - waited) > 0.001:
            delay = min(delay, remaining)  # the last poll lands on the budget
            yield delay
            waited += delay
            delay = min(delay * self.factor, self.max_delay_s)


class _MediaUnreadableError(Exception):
    """Reading the file from Herald's media store failed mid-upload."""


async def upload_media(api: MastodonApi, item: MediaItem, wait: ProcessingWait) -> str:
    """Upload one file and return its media id once Mastodon has processed it.

    Uploads carry no idempotency key (Mastodon takes none there): a retried publish uploads
    again, and the first upload stays an unattached orphan, which Mastodon removes by itself.
    No status exists yet, so every failure here is retryable unless Mastodon refuses the file."""
    opener = item.open
    if opener is None:
        raise RejectedError("Mastodon needs the media file's bytes, and Herald has none to send")
    boundary = f"herald-{secrets.token_hex(16)}"
    try:
        response = await api.send(
            "POST",
            "/api/v2/media",
            content=_form(item, opener, boundary),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    except _MediaUnreadableError as exc:
        message = f"Could not read the media file to upload it to Mastodon ({exc})"
        raise RetryableError(message) from None
    if response.status_code not in (200, 202):
        raise error_for(response, api.token, _SUBJECT, may_exist=False)
    media_id = _media_id(response)
    if response.status_code == 202:  # accepted, still processing: no url until it is done
        await _processed(api, media_id, wait)
    return media_id


async def _processed(api: MastodonApi, media_id: str, wait: ProcessingWait) -> None:
    path = f"/api/v1/media/{quote(media_id, safe='')}"
    for delay in wait.delays():
        await asyncio.sleep(delay)
        response = await api.send("GET", path)
        if response.status_code == 200:
            return
        if response.status_code == 206:  # Partial Content: still processing
            continue
        if response.status_code == 422:
            detail = platform_message(response, api.token)
            raise RejectedError(f"Mastodon could not process {_SUBJECT}: {detail}", http_status=422)
        raise error_for(response, api.token, _SUBJECT, may_exist=False)
    raise RetryableError(
        f"Mastodon was still processing {_SUBJECT} after {wait.budget_s:g} s; trying again later"
    )


def _media_id(response: HttpResponse) -> str:
    try:
        media_id = response.json()["id"]
    except (ValueError, LookupError, TypeError):
        media_id = None
    if not isinstance(media_id, str) or not media_id:
        raise RetryableError(
            f"Mastodon accepted {_SUBJECT} but its answer had no media id",
            http_status=response.status_code,
        )
    return media_id


async def _form(
    item: MediaItem, opener: Callable[[], AsyncIterator[bytes]], boundary: str
) -> AsyncIterator[bytes]:
    """The multipart/form-data body, the file streamed from the media store as it is read.
    Its length is unknown beforehand, so it goes out with chunked transfer encoding."""
    if item.alt_text:
        yield _part_head(boundary, 'name="description"') + item.alt_text.encode() + b"\r\n"
    content_type = item.content_type if _MIME_TYPE.fullmatch(item.content_type) else ""
    content_type = content_type or "application/octet-stream"
    # Mastodon names stored files itself; the extension helps it recognise the type.
    filename = f"upload{mimetypes.guess_extension(content_type) or ''}"
    disposition = f'name="file"; filename="{filename}"'
    yield _part_head(boundary, disposition, f"Content-Type: {content_type}\r\n")
    try:
        async for chunk in opener():
            yield chunk
    except Exception as exc:  # the store's own errors, which connectors cannot import
        raise _MediaUnreadableError(type(exc).__name__) from exc
    yield f"\r\n--{boundary}--\r\n".encode()


def _part_head(boundary: str, disposition: str, extra: str = "") -> bytes:
    return f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n{extra}\r\n".encode()
