"""Media by URL (publora-latest §5.7): fetched through the egress policy, streamed into the media
store, all or nothing, and counted against an hourly allowance per user."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.ids import new_id
from herald.domain.media_magic import sniff
from herald.domain.media_rules import IMAGE_TYPES, AttachedMedia
from herald.domain.platform import Platform
from herald.errors import AppError, RateLimitedError, ValidationError
from herald.media.base import MediaStore, MediaStoreError, UploadTooLarge
from herald.models import Media, PostGroup
from herald.net.egress import EgressDenied
from herald.net.http_client import HttpClient, HttpError, InvalidUrl
from herald.services.media import (
    FILE_URL_TOKEN_BYTES,
    attached,
    check_rules,
    delete_files,
    safe_file_name,
)
from herald.services.public_media import check_public_media
from herald.store.media import MediaRecordStore
from herald.store.media_url_window import MediaUrlWindowStore

MAX_URLS = 10  # per request
HOURLY_URLS = 60  # per user, fixed hour windows
WINDOW_SECONDS = 3600
IMAGE_MAX_BYTES = 25 * 1024 * 1024
VIDEO_MAX_BYTES = 150 * 1024 * 1024
AGGREGATE_MAX_BYTES = 300 * 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SNIFF_BYTES = 64
RATE_LIMITED = (
    "Media URL ingestion rate limit reached (60 URLs/hour). Retry later or use the presigned "
    "get-upload-url flow."
)


class MediaUrlRateLimitedError(RateLimitedError):
    """A RateLimitedError, so the answer carries Retry-After; Publora's body otherwise."""

    code = "MEDIA_URL_RATE_LIMITED"

    def __init__(self, retry_after: int) -> None:
        AppError.__init__(self, RATE_LIMITED, retryAfterSec=retry_after)
        self.retry_after = retry_after


def parse_media_urls(value: Any) -> list[str] | None:
    """The request's `mediaUrls` (publora-latest §2.14.2 wording); None when absent or null."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValidationError(
            "mediaUrls must be an array of public https URLs", code="INVALID_MEDIA_URLS"
        )
    if not value:
        raise ValidationError(
            "mediaUrls must contain at least one URL when provided", code="INVALID_MEDIA_URLS"
        )
    if len(value) > MAX_URLS:
        raise ValidationError(
            f"mediaUrls supports at most {MAX_URLS} URLs per request", code="INVALID_MEDIA_URLS"
        )
    if not all(isinstance(url, str) and url.strip() for url in value):
        raise ValidationError(
            "Every mediaUrls entry must be a non-empty string", code="INVALID_MEDIA_URLS"
        )
    return [url.strip() for url in value]


async def count_urls(session: AsyncSession, account_id: str, count: int) -> None:
    """Take `count` URLs from this hour's allowance, or refuse them all (the refused request
    takes nothing: its increment rolls back with the error)."""
    now = time.time()
    window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    used = await MediaUrlWindowStore(session).add(account_id, window, count)
    if used > HOURLY_URLS:
        raise MediaUrlRateLimitedError(max(1, int(window + WINDOW_SECONDS - now)))


@dataclass(frozen=True)
class Fetched:
    url: str
    media_id: str
    storage_key: str
    file_name: str
    content_type: str
    kind: str
    size: int


class UrlFailed(Exception):  # noqa: N818 (a per-URL result, not a program error)
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def fetched_result(item: Fetched, store: MediaStore) -> dict[str, Any]:
    return {
        "url": item.url,
        "ok": True,
        "mediaId": item.media_id,
        "type": item.kind,
        "mimeType": item.content_type,
        "size": item.size,
        "fileUrl": store.public_url(item.storage_key),
    }


async def fetch_all(
    client: HttpClient,
    store: MediaStore,
    group_id: str,
    urls: Sequence[str],
    max_bytes: int,
    name: str | None = None,
) -> list[Fetched]:
    """Each URL in turn into the store; on the first failure the files already stored are
    removed and the 400 lists every URL's result. `name`: the file name to keep (attach-media's
    cleaned name); by default the URL's last path segment."""
    done: list[Fetched] = []
    total = 0
    for index, url in enumerate(urls):
        room = AGGREGATE_MAX_BYTES - total
        try:
            item = await _fetch(client, store, group_id, url, (max_bytes, room), name)
        except UrlFailed as failure:
            await delete_files(store, [f.storage_key for f in done])
            results = [_rolled_back(f.url) for f in done]
            results.append(
                {"url": url, "ok": False, "code": failure.code, "error": failure.message}
            )
            results += [_skipped(later) for later in urls[index + 1 :]]
            raise ValidationError(
                "Media ingestion failed", code="MEDIA_INGESTION_FAILED", mediaResults=results
            ) from None
        done.append(item)
        total += item.size
    return done


def _rolled_back(url: str) -> dict[str, Any]:
    return {
        "url": url,
        "ok": False,
        "code": "MEDIA_URL_ROLLED_BACK",
        "error": "Fetched, then removed because another URL failed",
    }


def _skipped(url: str) -> dict[str, Any]:
    return {
        "url": url,
        "ok": False,
        "code": "MEDIA_URL_SKIPPED",
        "error": "Not tried after an earlier URL failed",
    }


def check_url(url: str) -> None:
    """The checks made before any connection (the egress policy judges the addresses)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlFailed("MEDIA_URL_INVALID", f"{url} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise UrlFailed(
            "MEDIA_URL_PROTOCOL", f"Only https:// and http:// media URLs are allowed (got {shown})"
        )
    if parts.username is not None or parts.password is not None:
        raise UrlFailed("MEDIA_URL_CREDENTIALS", "Media URLs must not contain credentials")
    if not parts.hostname or port == 0:
        raise UrlFailed("MEDIA_URL_INVALID", f"{url} is not a valid URL")


async def _fetch(
    client: HttpClient,
    store: MediaStore,
    group_id: str,
    url: str,
    limits: tuple[int, int],  # the per-file cap, the room left in the request's total
    name: str | None,
) -> Fetched:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        check_url(current)
        try:
            async with client.stream(current) as answer:
                if answer.status_code in _REDIRECTS:
                    location = answer.headers.get("Location")
                    if not location:
                        raise UrlFailed(
                            "MEDIA_URL_REDIRECT", f"Fetching {url} redirected without a Location"
                        )
                    current = urljoin(current, location)
                    continue
                if answer.status_code != 200:
                    raise UrlFailed(
                        "MEDIA_URL_HTTP_ERROR",
                        f"Fetching {url} returned HTTP {answer.status_code}",
                    )
                file_name = name or _file_name(current)
                return await _store(store, group_id, url, file_name, answer.chunks, limits)
        except EgressDenied:
            raise UrlFailed(
                "MEDIA_URL_BLOCKED_HOST",
                f"Fetching {url} was refused: its host is not a public internet address",
            ) from None
        except (HttpError, InvalidUrl) as exc:
            kind = getattr(exc, "kind", "InvalidUrl")
            raise UrlFailed("MEDIA_URL_FETCH_FAILED", f"Fetching {url} failed ({kind})") from None
    raise UrlFailed("MEDIA_URL_TOO_MANY_REDIRECTS", f"Fetching {url} redirected too many times")


async def _store(
    store: MediaStore,
    group_id: str,
    url: str,
    name: str,
    chunks: AsyncIterator[bytes],
    limits: tuple[int, int],
) -> Fetched:
    max_bytes, room = limits
    head = b""
    async for chunk in chunks:
        head += chunk
        if len(head) >= _SNIFF_BYTES:
            break
    content_type = sniff(head)
    if content_type is None:
        raise UrlFailed(
            "MEDIA_URL_UNSUPPORTED_FORMAT",
            f"{url} is not an image (JPEG, PNG, GIF, WebP) or a video (MP4, MOV, WebM, AVI)",
        )
    kind = "image" if content_type in IMAGE_TYPES else "video"
    limit = min(max_bytes, IMAGE_MAX_BYTES if kind == "image" else VIDEO_MAX_BYTES)
    media_id = new_id()
    # The name is kept as given; the stored file's gets an extension, for whoever downloads it.
    key_name = name if "." in name else f"{name}.{_EXTENSIONS[content_type]}"
    token = secrets.token_hex(FILE_URL_TOKEN_BYTES)
    key = f"{group_id}/{media_id}/{token}/{safe_file_name(key_name)}"

    async def body() -> AsyncIterator[bytes]:
        yield head
        async for chunk in chunks:
            yield chunk

    try:
        size = await store.receive(key, body(), min(limit, room), content_type=content_type)
    except UploadTooLarge:
        if room < limit:
            raise UrlFailed(
                "MEDIA_URL_AGGREGATE_TOO_LARGE",
                f"The files of this request exceed {AGGREGATE_MAX_BYTES // (1024 * 1024)} MB",
            ) from None
        raise UrlFailed(
            "MEDIA_URL_TOO_LARGE", f"{url} is larger than {limit // (1024 * 1024)} MB"
        ) from None
    except MediaStoreError:
        raise UrlFailed("MEDIA_URL_FETCH_FAILED", f"Storing {url} failed") from None
    return Fetched(url, media_id, key, name, content_type, kind, size)


_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-msvideo": "avi",
}


def _file_name(url: str) -> str:
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = safe_file_name(last) if last else ""
    return name if name and name != "file" else "media"


def media_rows(
    fetched: Sequence[Fetched], store: MediaStore, group_id: str, first: int, now: datetime
) -> list[Media]:
    """The rows of fetched files: ready at once, after the files already attached."""
    return [
        Media(
            id=item.media_id,
            post_group_id=group_id,
            kind=item.kind,
            content_type=item.content_type,
            file_name=item.file_name,
            size=item.size,
            storage_key=item.storage_key,
            public_url=store.public_url(item.storage_key),
            status="ready",
            upload_expires_at=None,
            position=first + offset,
            created_at=now,
        )
        for offset, item in enumerate(fetched)
    ]


async def attach_fetched(
    session: AsyncSession,
    group: PostGroup,
    fetched: Sequence[Fetched],
    store: MediaStore,
    now: datetime,
) -> list[Media]:
    """Append the fetched files to the group's media, checked against every target's rules;
    returns all of the group's media. Without files it does nothing (no query): create-post
    calls it under the write lock."""
    if not fetched:
        return []
    records = MediaRecordStore(session)
    media = list(await records.for_group(group.id))
    added = [AttachedMedia(f.kind, f.content_type) for f in fetched]
    check_rules(group, [*attached(media), *added])
    rows = media_rows(fetched, store, group.id, len(media), now)
    platforms = [Platform(t.platform) for t in group.targets]
    check_public_media(platforms, [row.public_url for row in rows], store.reachable_networks)
    for row in rows:
        media.append(await records.add(row))
    return media
