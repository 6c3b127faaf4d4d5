"""Helpers for Mastodon tests: the simulator's accounts and control API, requests and media."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms.base import MediaItem, Profile, Published, PublishRequest
from herald.platforms.mastodon import MastodonConnector
from herald.platforms.mastodon.media import ProcessingWait
from herald.sim.faults import SandboxConfig
from herald.sim.mastodon import MastodonAccount, MastodonConfig, create_mastodon_app
from sim_support import (
    HANG_S,
    SimControl,
    platform_client,
    reset_for_test,
    serve_in_thread,
)

TOKEN = "mtok-3c9a71-very-secret"
OTHER_TOKEN = "mtok-other-5511"
ADA = MastodonAccount(
    id="109000000000000001",
    username="ada",
    token=TOKEN,
    display_name="Ada L.",
    avatar="https://files.example/ada.png",
)
BOB = MastodonAccount(id="109000000000000002", username="bob", token=OTHER_TOKEN)
# Quick polls, so a processing video costs a test a fraction of a second.
FAST_WAIT = ProcessingWait(first_delay_s=0.05, factor=1.5, max_delay_s=0.1, budget_s=5.0)
connector = MastodonConnector(processing_wait=FAST_WAIT)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00\x01" * 3000


def sim_config(**changes: Any) -> MastodonConfig:
    """The tests' simulator: Ada and Bob, held requests short, no background rate limit."""
    values: dict[str, Any] = {
        "common": SandboxConfig(hang_s=HANG_S),
        "accounts": (ADA, BOB),
        "rate_limit": None,
        "processing_delay_s": 0.3,
    }
    values.update(changes)
    return MastodonConfig(**values)


class MastodonControl(SimControl):
    """SimControl plus the Mastodon simulator's own control and API calls."""

    def script_media(self, *outcomes: str) -> None:
        self._ok(self.http.post("/_sim/script", json={"media": list(outcomes)}))

    def statuses(self, account: str | None = None) -> list[dict[str, Any]]:
        return self.listing("statuses", account=account or None)

    def media(self) -> list[dict[str, Any]]:
        return self.listing("media")

    def api(
        self, method: str, path: str, token: str | None = TOKEN, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def post_status(
        self, text: str, key: str | None = None, token: str = TOKEN, **fields: Any
    ) -> dict[str, Any]:
        """A status created through the API, as a client other than Herald would."""
        headers = {"Idempotency-Key": key} if key else {}
        body = {"status": text, **fields}
        response = self.api("POST", "/api/v1/statuses", token, json=body, headers=headers)
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()
        return status


@pytest.fixture(scope="module")
def mastodon_sim_url() -> Iterator[str]:
    """One simulator per test module; `mastodon_sim` resets it before each test."""
    with serve_in_thread(create_mastodon_app(sim_config())) as base_url:
        yield base_url


@pytest.fixture
def mastodon_sim(mastodon_sim_url: str) -> Iterator[MastodonControl]:
    yield from reset_for_test(MastodonControl(mastodon_sim_url))


def media_item(
    data: bytes, kind: str = "image", content_type: str = "image/png", alt: str | None = None
) -> MediaItem:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 1000):  # several chunks, as the media store sends
            yield data[start : start + 1000]

    return MediaItem(kind, content_type, "https://cdn.example/file", alt, chunks)


def failing_media() -> MediaItem:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"\x89PNG\r\n\x1a\n"
        raise FileNotFoundError("the media store lost it")

    return MediaItem("image", "image/png", "https://cdn.example/gone", None, chunks)


def mastodon_request(base_url: str, **fields: Any) -> PublishRequest:
    """A PublishRequest for Ada on the simulator at `base_url`; `fields` override defaults."""
    values: dict[str, Any] = {
        "target_id": "target-1",
        "platform": Platform.MASTODON,
        "account_external_id": ADA.id,
        "text": "Hello from Herald",
        "options": {"instanceUrl": base_url},
        "credentials": {"accessToken": TOKEN},
    }
    values.update(fields)
    return PublishRequest(**values)


def _run(call: Callable[[HttpClient], Awaitable[Any]]) -> Any:
    async def scenario() -> Any:
        async with platform_client() as http:
            return await call(http)

    return asyncio.run(scenario())


def publish(request: PublishRequest, key: str = "key-1") -> Published:
    published: Published = _run(lambda http: connector.publish(http, request, key))
    return published


def lookup(request: PublishRequest, key: str = "key-1") -> Published | None:
    found: Published | None = _run(lambda http: connector.lookup(http, request, key))
    return found


def verify(base_url: str, token: str = TOKEN) -> Profile:
    options, credentials = {"instanceUrl": base_url}, {"accessToken": token}
    profile: Profile = _run(lambda http: connector.verify(http, credentials, options))
    return profile
