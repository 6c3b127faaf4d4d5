"""The MediaStore protocol, its data types, key rules and error taxonomy.

Backends raise only these errors (plus ValueError for a key or argument that breaks the rules):

    MediaStoreError        the storage backend failed (I/O error, S3 error, unreachable)
    ├── MediaNotFoundError `open` found nothing under the key
    ├── UploadRefused      a local upload URL failed verification; `reason` is one of
    │                      "expired", "bad_signature", "content_type_mismatch" (Publora answers 403)
    └── UploadTooLarge     an upload went past its byte limit; nothing was kept
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Literal, Protocol

MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # Publora's per-file cap (spec §5)
UPLOAD_URL_LIFETIME = timedelta(hours=1)
CHUNK_SIZE = 64 * 1024

# S3 keys may be up to 1024 bytes; with the key's alphabet restricted to ASCII, characters = bytes.
MAX_KEY_LENGTH = 1024
_KEY_ALPHABET = re.compile(r"[A-Za-z0-9._\-/]+")
_CONTENT_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+")

RefusalReason = Literal["expired", "bad_signature", "content_type_mismatch"]


@dataclass(frozen=True)
class UploadTicket:
    upload_url: str  # where the client PUTs the bytes, with the same Content-Type
    file_url: str  # public URL of the file once uploaded
    expires_at: datetime  # aware UTC; when the upload URL stops working


@dataclass(frozen=True)
class StoredFile:
    size: int
    content_type: str


class MediaStore(Protocol):
    """Where uploaded media live; keys are `<postGroupId>/<mediaId>/<safe file name>`."""

    # Networks beyond the public internet from which platforms that fetch media by URL
    # (Meta's) can reach these files: the operator's word, for dry runs against a simulator.
    reachable_networks: tuple[IPv4Network | IPv6Network, ...]

    async def presign_upload(
        self, key: str, content_type: str, expires_at: datetime
    ) -> UploadTicket: ...

    def public_url(self, key: str) -> str: ...

    async def stat(self, key: str) -> StoredFile | None:
        """Size and content type, or None when nothing was uploaded (yet)."""
        ...

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The file in chunks of at most CHUNK_SIZE; MediaNotFoundError when first iterated
        if nothing is stored under `key`."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error."""
        ...

    async def receive(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        max_bytes: int = MAX_UPLOAD_BYTES,
        *,
        content_type: str | None = None,
    ) -> int:
        """Store `chunks` under `key` (whole or not at all) and return the size; past
        `max_bytes` UploadTooLarge and nothing is kept. Used for files Herald fetches itself."""
        ...

    async def put(self, key: str, content_type: str, data: bytes) -> None:
        """Store a small file Herald made or checked itself (a thumbnail, a cover) whole."""
        ...


class MediaStoreError(Exception):
    """Base of every media backend failure."""


class MediaNotFoundError(MediaStoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no media stored under {key!r}")
        self.key = key


class UploadRefused(MediaStoreError):  # noqa: N818 (name fixed by the API contract)
    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason)
        self.reason: RefusalReason = reason


class UploadTooLarge(MediaStoreError):  # noqa: N818 (name fixed by the API contract)
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"upload exceeds {max_bytes} bytes")
        self.max_bytes = max_bytes


def validate_key(key: str) -> str:
    """Return `key` if it is a relative path of safe segments; ValueError otherwise.

    Only `[A-Za-z0-9._-/]`, no empty, `.` or `..` segment, no leading or trailing slash: a key
    can then never leave the storage root, and means the same on a file system and in S3."""
    if len(key) > MAX_KEY_LENGTH or not _KEY_ALPHABET.fullmatch(key):
        raise ValueError("media key has characters outside [A-Za-z0-9._-/] or is too long")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise ValueError("media key must be a relative path without empty, '.' or '..' parts")
    return key


def validate_content_type(content_type: str) -> str:
    """Return `content_type` if it is a bare `type/subtype`, else ValueError. Parameters are
    refused too: after a comma in one, a browser may take the file for another type."""
    if not _CONTENT_TYPE.fullmatch(content_type):
        raise ValueError("content type must be a bare type/subtype")
    return content_type


def media_type(content_type: str) -> str:
    """`Image/PNG; charset=x` → `image/png`: the part two Content-Types must agree on."""
    return content_type.split(";", 1)[0].strip().lower()


def require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return moment
