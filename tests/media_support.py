"""Helpers for media tests: a moto S3 server, both store backends behind one upload call, MP4s."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
from botocore.config import Config

from herald.media.base import CHUNK_SIZE, MediaStore, UploadTicket
from herald.media.local import LocalMediaStore
from herald.media.s3 import S3MediaStore

REGION = "us-east-1"
ACCESS_KEY = "herald-test"
SECRET_KEY = "herald-test-secret"
LOCAL_BASE_URL = "http://herald.test"


async def chunks_of(data: bytes, size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read_chunks(store: MediaStore, key: str) -> list[bytes]:
    async def collect() -> list[bytes]:
        return [chunk async for chunk in store.open(key)]

    return asyncio.run(collect())


# --- backends -------------------------------------------------------------------------------


@dataclass
class LocalBackend:
    """Uploads go the way Herald's PUT route takes them: verify_upload, then receive."""

    store: LocalMediaStore
    name: str = "local"

    def upload(self, ticket: UploadTicket, data: bytes, content_type: str) -> None:
        url = urlsplit(ticket.upload_url)
        prefix = f"{urlsplit(LOCAL_BASE_URL).path}/media/upload/"
        assert url.path.startswith(prefix), ticket.upload_url
        key = url.path.removeprefix(prefix)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        self.store.verify_upload(
            key,
            query["expires"],
            query["contentType"],
            query["signature"],
            content_type,
            datetime.now(UTC),
        )
        asyncio.run(self.store.receive(key, chunks_of(data)))

    def fetch_public(self, key: str) -> bytes:
        """No HTTP server here (the route is the API's): check the URL names the served path."""
        assert self.store.public_url(key) == f"{LOCAL_BASE_URL}/media/files/{key}"
        return self.store.path_for(key).read_bytes()

    def close(self) -> None:
        self.store.close()


@dataclass
class S3Backend:
    """Uploads are real PUTs of the bytes to the pre-signed URL, as a Publora client sends them.
    `admin` is a separate client for what only the test does: bucket policy, emptying."""

    store: S3MediaStore
    admin: Any
    name: str = "s3"
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def upload(self, ticket: UploadTicket, data: bytes, content_type: str) -> None:
        response = self.put(ticket, data, content_type)
        assert response.status_code == 200, response.text

    def put(self, ticket: UploadTicket, data: bytes, content_type: str) -> httpx.Response:
        return self.http.put(
            ticket.upload_url, content=data, headers={"Content-Type": content_type}
        )

    def fetch_public(self, key: str) -> bytes:
        response = self.http.get(self.store.public_url(key))
        assert response.status_code == 200, response.text
        return response.content

    def empty(self) -> None:
        listing = self.admin.list_objects_v2(Bucket=self.store.bucket)
        for item in listing.get("Contents", []):
            self.admin.delete_object(Bucket=self.store.bucket, Key=item["Key"])

    def allow_public_reads(self) -> None:
        """What an operator sets up so platforms can fetch file URLs; moto keeps objects private."""
        statement = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{self.store.bucket}/*",
        }
        policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        self.admin.put_bucket_policy(Bucket=self.store.bucket, Policy=policy)

    def close(self) -> None:
        self.http.close()
        self.admin.close()
        self.store.close()


Backend = LocalBackend | S3Backend


def plant_legacy_file(store: LocalMediaStore, name: str, content_type: str, data: bytes) -> str:
    """A file as versions before the content-type allowlist left it: under a key of two ids
    and the name, its type (whatever the client named) in a `<name>.meta.json` beside it.
    Returns the key."""
    key = f"{secrets.token_hex(12)}/{secrets.token_hex(12)}/{name}"
    path = store.root / key
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    path.with_name(f"{name}.meta.json").write_text(json.dumps({"contentType": content_type}))
    return key


def local_backend(root: Path) -> LocalBackend:
    return LocalBackend(LocalMediaStore(root, LOCAL_BASE_URL, secrets.token_bytes(32)))


@contextmanager
def s3_backend(endpoint_url: str) -> Iterator[S3Backend]:
    """A store on a fresh, publicly readable bucket of the moto server; closed afterwards.
    Building boto3 clients is slow (about a second each), so share one per module and `empty` it."""
    bucket = f"herald-{secrets.token_hex(6)}"
    store = S3MediaStore(bucket, endpoint_url, REGION, ACCESS_KEY, SECRET_KEY, None)
    admin = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    backend = S3Backend(store, admin)
    try:
        asyncio.run(store.ensure_bucket())
        backend.allow_public_reads()
        yield backend
    finally:
        backend.close()


# --- moto server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def moto_server(log_path: Path) -> Iterator[str]:
    """moto's S3 server as a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_answering(url, process)
            yield url
        finally:
            process.kill()
            process.wait(timeout=10)


def _wait_until_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            assert process.poll() is None, "moto server exited; see its log"
            assert time.monotonic() < deadline, "moto server did not answer within 30 s"
            time.sleep(0.1)


# --- ISO-BMFF (MP4) files, box by box ---------------------------------------------------------

IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
ROTATE_90 = (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)


def box(kind: bytes, *payload: bytes, large: bool = False) -> bytes:
    """A box; `large` writes the 64-bit size form (size field 1, then a u64)."""
    body = b"".join(payload)
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(body)) + body
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">B3x", version), *payload)


def ftyp(brand: bytes = b"isom") -> bytes:
    return box(b"ftyp", brand, struct.pack(">I", 512), brand, b"mp41")


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    times = struct.pack(">QQIQ" if version else ">IIII", 0, 0, timescale, duration)
    rest = struct.pack(">ih10x9i24xI", 0x10000, 0x100, *IDENTITY, 3)
    return full_box(b"mvhd", version, times, rest)


def tkhd(width: int, height: int, matrix: tuple[int, ...] = IDENTITY, version: int = 0) -> bytes:
    times = struct.pack(">QQIIQ" if version else ">IIIII", 0, 0, 1, 0, 0)
    rest = struct.pack(">8xhhh2x9iII", 0, 0, 0, *matrix, width << 16, height << 16)
    return full_box(b"tkhd", version, times, rest)


def mdhd(timescale: int, duration: int, version: int = 0) -> bytes:
    times = struct.pack(">QQIQ" if version else ">IIII", 0, 0, timescale, duration)
    return full_box(b"mdhd", version, times, struct.pack(">HH", 0x55C4, 0))


def hdlr(handler: bytes) -> bytes:
    return full_box(b"hdlr", 0, struct.pack(">I4s12x", 0, handler), b"handler\0")


def stts(entries: Iterable[tuple[int, int]]) -> bytes:
    pairs = list(entries)
    flat = [value for pair in pairs for value in pair]
    return full_box(b"stts", 0, struct.pack(f">I{len(flat)}I", len(pairs), *flat))


def stsd(codec: bytes) -> bytes:
    entry = box(codec, bytes(6), struct.pack(">H", 1), bytes(70))
    return full_box(b"stsd", 0, struct.pack(">I", 1), entry)


def video_trak(
    width: int,
    height: int,
    timescale: int,
    timing: Iterable[tuple[int, int]],
    *,
    matrix: tuple[int, ...] = IDENTITY,
    version: int = 0,
    codec: bytes = b"avc1",
    handler: bytes | None = b"vide",
) -> bytes:
    stbl = box(b"stbl", stsd(codec), stts(timing))
    mdia = [mdhd(timescale, 0, version), box(b"minf", stbl)]
    if handler is not None:
        mdia.insert(1, hdlr(handler))
    return box(b"trak", tkhd(width, height, matrix, version), box(b"mdia", *mdia))


def audio_trak() -> bytes:
    stbl = box(b"stbl", stsd(b"mp4a"), stts([(94, 1024)]))
    mdia = box(b"mdia", mdhd(48000, 96256), hdlr(b"soun"), box(b"minf", stbl))
    return box(b"trak", tkhd(0, 0), mdia)


def mp4(
    *traks: bytes,
    duration: tuple[int, int] = (1000, 2000),
    moov_first: bool = True,
    mdat: bytes | None = None,
    version: int = 0,
    brand: bytes = b"isom",
) -> bytes:
    """ftyp, then moov (mvhd + `traks`) and mdat in either order; `duration` is (timescale,
    ticks). Pass a ready-made `mdat` box for large or open-ended forms."""
    moov = box(b"moov", mvhd(*duration, version=version), *traks)
    media = box(b"mdat", bytes(512)) if mdat is None else mdat
    return ftyp(brand) + (moov + media if moov_first else media + moov)
