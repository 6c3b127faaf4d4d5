"""S3MediaStore: media in an S3-compatible bucket, uploaded by clients through pre-signed PUTs."""

from __future__ import annotations

import asyncio
import contextlib
import math
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from herald.media.base import (
    CHUNK_SIZE,
    MAX_UPLOAD_BYTES,
    MediaNotFoundError,
    MediaStoreError,
    StoredFile,
    UploadTicket,
    UploadTooLarge,
    require_aware,
    validate_content_type,
    validate_key,
)

# SigV4 pre-signed URLs cannot outlive a week.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
# A HEAD answer has no body, so a missing key and a missing bucket both read "404" there.
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3MediaStore:
    """One boto3 client for the store's life; its blocking calls run in worker threads."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        public_base_url: str | None,
        reachable_networks: tuple[IPv4Network | IPv6Network, ...] = (),
    ) -> None:
        self.bucket = bucket
        self.reachable_networks = reachable_networks
        self.region = region
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        # A session of our own: boto3's default session is not safe to share between threads.
        # Path-style addressing keeps a custom endpoint such as 127.0.0.1:9000 usable.
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def public_url(self, key: str) -> str:
        validate_key(key)
        if self.public_base_url:
            return f"{self.public_base_url}/{key}"
        if self.endpoint_url:
            return f"{self.endpoint_url}/{self.bucket}/{key}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{key}"

    async def presign_upload(
        self, key: str, content_type: str, expires_at: datetime
    ) -> UploadTicket:
        """A pre-signed `put_object`: `content-type` is a signed header, so AWS refuses a PUT
        with any other Content-Type (403), as Publora's storage does (spec §2.7)."""
        validate_key(key)
        validate_content_type(content_type)
        if require_aware(expires_at) - datetime.now(UTC) > timedelta(seconds=MAX_PRESIGN_SECONDS):
            raise ValueError("expires_at must be at most 7 days ahead")
        url, ends = await self._presign_put(key, content_type, expires_at)
        return UploadTicket(upload_url=url, file_url=self.public_url(key), expires_at=ends)

    async def stat(self, key: str) -> StoredFile | None:
        validate_key(key)
        try:
            head = await self._call("head_object", Bucket=self.bucket, Key=key)
        except MediaNotFoundError:
            return None
        content_type = head.get("ContentType") or "application/octet-stream"
        return StoredFile(int(head["ContentLength"]), str(content_type))

    async def open(self, key: str) -> AsyncGenerator[bytes, None]:
        validate_key(key)
        response = await self._call("get_object", Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            while chunk := await self._read(body):
                yield chunk
        finally:
            body.close()

    async def receive(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        max_bytes: int = MAX_UPLOAD_BYTES,
        *,
        content_type: str | None = None,
    ) -> int:
        """Store a file Herald fetched itself: spooled to a temporary file on disk (never
        held in memory), then uploaded in one call, so the object appears whole or not at all."""
        validate_key(key)
        kind = validate_content_type(content_type or "application/octet-stream")
        with tempfile.TemporaryFile() as spool:
            size = 0
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(max_bytes)
                await asyncio.to_thread(spool.write, chunk)
            await asyncio.to_thread(spool.seek, 0)
            await self._call(
                "upload_fileobj", spool, self.bucket, key, ExtraArgs={"ContentType": kind}
            )
        return size

    async def delete(self, key: str) -> None:
        validate_key(key)
        # S3 answers 204 for a missing key; some compatible stores say 404.
        with contextlib.suppress(MediaNotFoundError):
            await self._call("delete_object", Bucket=self.bucket, Key=key)

    async def put(self, key: str, content_type: str, data: bytes) -> None:
        validate_key(key)
        validate_content_type(content_type)
        await self._call(
            "put_object", Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
        )

    async def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (first start, tests). Access rules are left to
        the operator: the files must be publicly readable for platforms to fetch them."""
        await self._run(self._ensure_bucket, operation="ensure_bucket")

    def close(self) -> None:
        """Release the client's connection pool."""
        self._client.close()

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _MISSING_CODES:
                raise
        options: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":  # the one region that refuses a LocationConstraint
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._client.create_bucket(**options)
        except ClientError as exc:  # created meanwhile by another Herald process
            if _code(exc) != "BucketAlreadyOwnedByYou":
                raise

    async def _presign_put(
        self, key: str, content_type: str, expires_at: datetime
    ) -> tuple[str, datetime]:
        params = {"Bucket": self.bucket, "Key": key, "ContentType": content_type}
        url, ends = await self._sign_put(params, expires_at)
        if ends > expires_at:  # the clock ticked between reading it and signing
            url, ends = await self._sign_put(params, expires_at)
        return url, ends

    async def _sign_put(self, params: dict[str, str], expires_at: datetime) -> tuple[str, datetime]:
        # X-Amz-Date has whole seconds, so count from the current whole second: the URL then
        # ends within the second before `expires_at`.
        signed_from = datetime.now(UTC).replace(microsecond=0)
        seconds = math.floor((expires_at - signed_from).total_seconds())
        if seconds < 1:
            raise ValueError("expires_at must be at least a second in the future")
        url: str = await self._call(
            "generate_presigned_url", "put_object", Params=params, ExpiresIn=seconds
        )
        # Without SigV4 fields there is nothing to read back: trust the requested time.
        return url, _signed_expiry(url) or expires_at

    async def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self._client, operation)
        return await self._run(method, *args, operation=operation, **kwargs)

    async def _run(
        self, function: Callable[..., Any], *args: Any, operation: str, **kwargs: Any
    ) -> Any:
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING_CODES:
                raise MediaNotFoundError(str(kwargs.get("Key", ""))) from exc
            raise MediaStoreError(f"S3 {operation} failed: {code or 'unknown error'}") from exc
        except BotoCoreError as exc:
            raise MediaStoreError(f"S3 {operation} failed: {type(exc).__name__}") from exc

    async def _read(self, body: Any) -> bytes:
        try:
            chunk: bytes = await asyncio.to_thread(body.read, CHUNK_SIZE)
        except BotoCoreError as exc:
            raise MediaStoreError(f"S3 download failed: {type(exc).__name__}") from exc
        return chunk


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _signed_expiry(url: str) -> datetime | None:
    """When the URL really expires: the signing time (whole seconds) plus X-Amz-Expires."""
    query = parse_qs(urlsplit(url).query)
    try:
        signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed_at + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    except (KeyError, ValueError):
        return None
