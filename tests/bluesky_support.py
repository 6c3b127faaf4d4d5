"""Helpers for Bluesky tests: the simulator served on loopback, its control API, publish requests
aimed at it, test images, and connector calls run on a fresh event loop."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from PIL import Image

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms.base import MediaItem, Profile, Published, PublishRequest
from herald.platforms.bluesky import BlueskyConnector
from herald.sim.bluesky import DEMO_ACCOUNT, BlueskyConfig, create_bluesky_app
from herald.sim.faults import SandboxConfig
from sim_support import (
    HANG_S,
    SimControl,
    platform_client,
    reset_for_test,
    serve_in_thread,
)

ALICE = DEMO_ACCOUNT
SCHEDULED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
POST = "app.bsky.feed.post"
CREATE_RECORD = "com.atproto.repo.createRecord"
UPLOAD_BLOB = "com.atproto.repo.uploadBlob"
T = TypeVar("T")


@contextmanager
def running_sim(**config: Any) -> Iterator[str]:
    """The simulator on a loopback port, holding faulted requests HANG_S; yields its base URL."""
    settings = BlueskyConfig(behaviour=SandboxConfig(hang_s=HANG_S))
    with serve_in_thread(create_bluesky_app(replace(settings, **config))) as base_url:
        yield base_url


class BlueskyControl(SimControl):
    """The Bluesky simulator's control API, plus plain XRPC calls."""

    def records(self, repo: str | None = None) -> list[dict[str, Any]]:
        return self.listing("records", repo=repo or None)

    def blobs(self) -> list[dict[str, Any]]:
        return self.listing("blobs")

    def expire_tokens(self, *, refresh: bool = False) -> dict[str, int]:
        expired: dict[str, int] = self._ok(
            self.http.post("/_sim/expire-tokens", json={"refresh": refresh})
        )["expired"]
        return expired

    def add_account(self, **fields: str) -> dict[str, str]:
        account: dict[str, str] = self._ok(self.http.post("/_sim/accounts", json=fields))
        return account

    def get(self, nsid: str, token: str | None = None, **params: str) -> httpx.Response:
        return self.http.get(f"/xrpc/{nsid}", params=params, headers=_bearer(token))

    def post(self, nsid: str, token: str | None = None, **body: Any) -> httpx.Response:
        """`body` is httpx's: json=..., or content=... with headers=..."""
        headers = {**body.pop("headers", {}), **_bearer(token)}
        return self.http.post(f"/xrpc/{nsid}", headers=headers, **body)

    def login(self, identifier: str = ALICE.handle, password: str = ALICE.app_password) -> str:
        """An access token for the account."""
        body = {"identifier": identifier, "password": password}
        response = self.post("com.atproto.server.createSession", json=body)
        token: str = self._ok(response)["accessJwt"]
        return token


@pytest.fixture(scope="module")
def bluesky_sim_url() -> Iterator[str]:
    """One simulator per test module; `bluesky_sim` resets it before each test."""
    with running_sim() as base_url:
        yield base_url


@pytest.fixture
def bluesky_sim(bluesky_sim_url: str) -> Iterator[BlueskyControl]:
    yield from reset_for_test(BlueskyControl(bluesky_sim_url))


def post_record(text: str = "hello", **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"$type": POST, "text": text, "createdAt": now, **fields}


def create_post(
    sim: BlueskyControl, token: str, record: dict[str, Any], rkey: str | None = None, **body: Any
) -> httpx.Response:
    """createRecord of a post in the demo account's repo."""
    payload = {"repo": ALICE.did, "collection": POST, "record": record, **body}
    if rkey is not None:
        payload["rkey"] = rkey
    return sim.post(CREATE_RECORD, token, json=payload)


def upload_blob(sim: BlueskyControl, token: str, data: bytes, content_type: str) -> dict[str, Any]:
    response = sim.post(UPLOAD_BLOB, token, content=data, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    blob: dict[str, Any] = response.json()["blob"]
    return blob


def xrpc_error(response: httpx.Response) -> tuple[int, str, str]:
    """(HTTP status, error name, message) of an XRPC error answer."""
    body = response.json()
    return response.status_code, body["error"], body["message"]


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def bluesky_request(base_url: str, **fields: Any) -> PublishRequest:
    """A PublishRequest for the demo account at `base_url`; `fields` override the defaults."""
    values: dict[str, Any] = {
        "target_id": "target-1",
        "platform": Platform.BLUESKY,
        "account_external_id": ALICE.did,
        "text": "Hello from Herald",
        "options": {"pdsUrl": base_url, "handle": ALICE.handle},
        "credentials": {"identifier": ALICE.handle, "appPassword": ALICE.app_password},
        "scheduled_at": SCHEDULED_AT,
    }
    values.update(fields)
    return PublishRequest(**values)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def media_item(
    data: bytes, kind: str = "image", content_type: str = "image/png", alt: str | None = None
) -> MediaItem:
    """A media item whose bytes arrive in small chunks, as the media store streams them."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    return MediaItem(kind, content_type, f"https://cdn.example/{len(data)}", alt, chunks)


def run(call: Callable[[HttpClient], Coroutine[Any, Any, T]]) -> T:
    """`call` with a fresh client on a fresh event loop."""

    async def main() -> T:
        async with platform_client() as client:
            return await call(client)

    return asyncio.run(main())


def publish(connector: BlueskyConnector, request: PublishRequest, key: str = "key-1") -> Published:
    return run(lambda client: connector.publish(client, request, key))


def lookup(
    connector: BlueskyConnector, request: PublishRequest, key: str = "key-1"
) -> Published | None:
    return run(lambda client: connector.lookup(client, request, key))


def verify(
    connector: BlueskyConnector,
    base_url: str,
    identifier: str = ALICE.handle,
    password: str = ALICE.app_password,
) -> Profile:
    credentials = {"identifier": identifier, "appPassword": password}
    return run(lambda client: connector.verify(client, credentials, {"pdsUrl": base_url}))
