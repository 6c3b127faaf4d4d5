"""LocalMediaStore: media files on disk, uploaded through HMAC-signed URLs that Herald serves."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from stat import S_ISREG
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlencode

from herald.media.base import (
    CHUNK_SIZE,
    MAX_UPLOAD_BYTES,
    MediaNotFoundError,
    MediaStoreError,
    StoredFile,
    UploadRefused,
    UploadTicket,
    UploadTooLarge,
    media_type,
    require_aware,
    validate_content_type,
    validate_key,
)
from herald.private_files import fsync_directory

__all__ = ["LocalMediaStore", "UploadRefused", "UploadTooLarge"]

# "~" is outside the key alphabet, so no key can name a sidecar (nor an upload in progress).
META_SUFFIX = "~meta.json"
# Versions before 2026-12 wrote `<name>.meta.json`, and reserved that ending in keys.
LEGACY_META_SUFFIX = ".meta.json"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
T = TypeVar("T")
# Upload chunks are gathered up to this size before each write, so a body arriving in small
# pieces costs one thread hop per MiB rather than one per piece.
WRITE_BUFFER_BYTES = 1024 * 1024


class LocalMediaStore:
    """Files under `root / key`, each with a `<file>~meta.json` sidecar holding its content type.

    The content type is recorded when the upload URL is signed (it is part of the signature), so
    `receive` needs only the bytes; uploads land in a temp file and are renamed into place."""

    def __init__(
        self,
        root: Path,
        public_base_url: str,
        signing_key: bytes,
        *,
        older_keys: Sequence[bytes] = (),
        reachable_networks: tuple[IPv4Network | IPv6Network, ...] = (),
    ) -> None:
        """URLs are signed with `signing_key`; those signed with `older_keys` (before a key
        rotation) still verify."""
        if not signing_key or not all(older_keys):
            raise ValueError("signing keys must not be empty")
        self.root = root
        self.public_base_url = public_base_url.rstrip("/")
        self.reachable_networks = reachable_networks
        self._signing_key = signing_key
        self._verifying_keys = (signing_key, *older_keys)

    def path_for(self, key: str) -> Path:
        return self.root / validate_key(key)

    def public_url(self, key: str) -> str:
        self.path_for(key)
        return f"{self.public_base_url}/media/files/{key}"

    async def presign_upload(
        self, key: str, content_type: str, expires_at: datetime
    ) -> UploadTicket:
        self.path_for(key)
        validate_content_type(content_type)
        if require_aware(expires_at) <= datetime.now(UTC):
            raise ValueError("expires_at must be in the future")
        expires = str(int(expires_at.timestamp()))
        query = urlencode(
            {
                "expires": expires,
                "contentType": content_type,
                "signature": self._sign(key, expires, content_type),
            }
        )
        await self._write_meta(key, content_type)
        return UploadTicket(
            upload_url=f"{self.public_base_url}/media/upload/{key}?{query}",
            file_url=self.public_url(key),
            expires_at=datetime.fromtimestamp(int(expires), UTC),
        )

    def verify_upload(
        self,
        key: str,
        expires: str,
        content_type: str,
        signature: str,
        sent_content_type: str | None,
        now: datetime,
    ) -> None:
        """Raise UploadRefused unless the URL fields carry our signature, are unexpired at `now`,
        and the request's Content-Type has the signed media type."""
        # A key outside the rules was never signed by us, whatever the signature says.
        try:
            self.path_for(key)
        except ValueError:
            raise UploadRefused("bad_signature") from None
        sent = signature.encode("utf-8", "replace")
        if not any(
            hmac.compare_digest(self._sign(key, expires, content_type, signer).encode(), sent)
            for signer in self._verifying_keys
        ):
            raise UploadRefused("bad_signature")
        if not (expires.isascii() and expires.isdigit()):
            raise UploadRefused("bad_signature")
        if require_aware(now).timestamp() >= int(expires):
            raise UploadRefused("expired")
        if sent_content_type is None or media_type(sent_content_type) != media_type(content_type):
            raise UploadRefused("content_type_mismatch")

    async def receive(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        max_bytes: int = MAX_UPLOAD_BYTES,
        *,
        content_type: str | None = None,
    ) -> int:
        """Stream `chunks` into the file for `key` and return its size; the file appears whole or
        not at all. `content_type` overrides the one recorded by `presign_upload`."""
        path = self.path_for(key)
        if content_type is not None:
            validate_content_type(content_type)
        part = _part_path(path)
        try:
            size = await self._write_part(key, part, chunks, max_bytes)
            if content_type is not None:
                await self._write_meta(key, content_type)
            await _on_disk(key, _commit, part, path)
        except BaseException:
            # Also when the body breaks off or the task is cancelled: no partial file stays.
            _discard(part)
            raise
        return size

    async def stat(self, key: str) -> StoredFile | None:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(_stat, path)
        except OSError as exc:
            raise MediaStoreError(f"cannot stat {key!r}: {type(exc).__name__}") from exc

    async def open(self, key: str) -> AsyncGenerator[bytes, None]:
        path = self.path_for(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise MediaNotFoundError(key) from None
        except OSError as exc:
            raise MediaStoreError(f"cannot open {key!r}: {type(exc).__name__}") from exc
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        try:
            await asyncio.to_thread(_remove, path)
        except OSError as exc:
            raise MediaStoreError(f"cannot delete {key!r}: {type(exc).__name__}") from exc

    async def put(self, key: str, content_type: str, data: bytes) -> None:
        async def whole() -> AsyncIterator[bytes]:
            yield data

        await self.receive(key, whole(), max(len(data), 1), content_type=content_type)

    def close(self) -> None:
        """Nothing to release; present so both backends close the same way."""

    def _sign(self, key: str, expires: str, content_type: str, signer: bytes | None = None) -> str:
        message = f"{key}\n{expires}\n{content_type}".encode()
        return hmac.new(signer or self._signing_key, message, hashlib.sha256).hexdigest()

    async def _write_part(
        self, key: str, part: Path, chunks: AsyncIterator[bytes], max_bytes: int
    ) -> int:
        """Errors of the body (a client hanging up) pass through as they are; only disk
        errors become MediaStoreError."""
        handle = await _on_disk(key, _create_exclusive, part)
        try:
            size = 0
            buffer = bytearray()
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(max_bytes)
                buffer += chunk
                if len(buffer) >= WRITE_BUFFER_BYTES:
                    await _on_disk(key, handle.write, buffer)
                    buffer = bytearray()
            await _on_disk(key, _finish, handle, buffer)
        finally:
            handle.close()
        return size

    async def _write_meta(self, key: str, content_type: str) -> None:
        body = json.dumps({"contentType": content_type}).encode()
        await _on_disk(key, _write_atomically, _sidecar(self.path_for(key)), body)


async def _on_disk(key: str, function: Callable[..., T], *args: Any) -> T:
    """Blocking file I/O in a worker thread; its OSErrors become MediaStoreError."""
    try:
        return await asyncio.to_thread(function, *args)
    except OSError as exc:
        raise MediaStoreError(f"cannot store {key!r}: {type(exc).__name__}") from exc


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _part_path(path: Path) -> Path:
    # "~" is outside the key alphabet, so no key can name an upload in progress.
    return path.with_name(f"{path.name}~{secrets.token_hex(8)}.part")


def _create_exclusive(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("xb")


def _finish(handle: BinaryIO, tail: bytes | bytearray) -> None:
    handle.write(tail)
    handle.flush()
    os.fsync(handle.fileno())


def _commit(part: Path, path: Path) -> None:
    os.replace(part, path)
    fsync_directory(path.parent)


def _write_atomically(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(path)
    try:
        with part.open("xb") as handle:
            _finish(handle, body)
        _commit(part, path)
    except BaseException:
        _discard(part)
        raise


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + META_SUFFIX)


def _existing_sidecar(path: Path) -> Path:
    """The sidecar, or for a file stored by an older version, the one it wrote (only then:
    today `<name>.meta.json` may be another key's file)."""
    sidecar = _sidecar(path)
    if sidecar.exists():
        return sidecar
    return path.with_name(path.name + LEGACY_META_SUFFIX)


def _stat(path: Path) -> StoredFile | None:
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not S_ISREG(status.st_mode):
        return None
    try:
        meta = json.loads(_existing_sidecar(path).read_bytes())
    except FileNotFoundError:
        return StoredFile(status.st_size, DEFAULT_CONTENT_TYPE)
    except ValueError as exc:
        raise MediaStoreError(f"unreadable metadata for {path.name!r}") from exc
    content_type = meta.get("contentType") if isinstance(meta, dict) else None
    if not isinstance(content_type, str):
        raise MediaStoreError(f"unreadable metadata for {path.name!r}")
    return StoredFile(status.st_size, content_type)


def _remove(path: Path) -> None:
    for target in (_existing_sidecar(path), path):
        # A parent that is a file, or a key naming a directory: no file stored under this key.
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
            target.unlink()
