"""Helpers for Meta tests: the simulator (Facebook Pages, Instagram, Threads) over real loopback
HTTP, tokens minted without a browser, a file server for the media it fetches, and connections
saved the way the login would store them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from herald.domain.platform import Platform, platform_id
from herald.platforms.base import Profile
from herald.services.connection import save_connection, verify_account
from herald.services.connection_inputs import ConnectionInput
from herald.sim.faults import SandboxConfig
from herald.sim.meta import DEFAULT_USER, MetaConfig, create_meta_app
from sim_support import (
    HANG_S,
    UNHELD_CALL_TIMEOUT_S,
    SimControl,
    platform_client,
    reset_for_test,
    serve_in_thread,
)

USER = DEFAULT_USER
PAGE = DEFAULT_USER.pages[0]
IG_ID = PAGE.instagram_id or ""
THREADS_ID = DEFAULT_USER.threads_id or ""


def sim_config(**changes: Any) -> MetaConfig:
    values: dict[str, Any] = {"common": SandboxConfig(hang_s=HANG_S)}
    values.update(changes)
    return MetaConfig(**values)


class MetaControl(SimControl):
    """SimControl plus the Meta simulator's tokens, containers and published media."""

    def token(self, kind: str = "user", **fields: Any) -> str:
        body = {"user_id": USER.id, "kind": kind, **fields}
        access: str = self._ok(self.http.post("/_sim/tokens", json=body))["access_token"]
        return access

    def page_token(self) -> str:
        answer = self.graph("GET", "/v24.0/me/accounts", self.token())
        assert answer.status_code == 200, answer.text
        found: str = answer.json()["data"][0]["access_token"]
        return found

    def graph(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        params = dict(kwargs.pop("params", {}))
        if token is not None:
            params["access_token"] = token
        return self.http.request(method, path, params=params, **kwargs)

    def published(self, host: str | None = None) -> list[dict[str, Any]]:
        return self.listing("published", host=host)

    def containers(self) -> list[dict[str, Any]]:
        return self.listing("containers")


@pytest.fixture(scope="module")
def meta_sim_url() -> Iterator[str]:
    """One simulator per test module; `meta_sim` resets it before each test."""
    with serve_in_thread(create_meta_app(sim_config())) as base_url:
        yield base_url


@pytest.fixture
def meta_sim(meta_sim_url: str) -> Iterator[MetaControl]:
    yield from reset_for_test(MetaControl(meta_sim_url))


class Files:
    """Files served on loopback for the simulator to fetch: `url(name)` after `put`."""

    def __init__(self, base_url: str, store: dict[str, bytes]) -> None:
        self.base_url = base_url
        self.store = store

    def put(self, name: str, data: bytes) -> str:
        self.store[name] = data
        return f"{self.base_url}/files/{name}"


@pytest.fixture(scope="module")
def media_files() -> Iterator[Files]:
    store: dict[str, bytes] = {}

    async def serve(request: Request) -> Response:
        data = store.get(request.path_params["name"])
        return Response(data, 200) if data is not None else Response(b"", 404)

    app = Starlette(routes=[Route("/files/{name}", serve)])
    with serve_in_thread(app) as base_url:
        yield Files(base_url, store)


def connect(server: Any, tenant: Any, platform: Platform, token: str, base_url: str) -> str:
    """The connection the login would store, verified with the simulator, then saved by the
    connection service; its public id."""
    options: dict[str, Any] = {"apiUrl": base_url}
    if platform is Platform.INSTAGRAM:
        options["accountId"] = IG_ID
    request = ConnectionInput(platform, credentials={"accessToken": token}, options=options)

    async def verify() -> Profile:
        async with platform_client(UNHELD_CALL_TIMEOUT_S) as http:
            return await verify_account(request, http, server.settings)

    profile = asyncio.run(verify())

    async def save(session: Any) -> str:
        connection = await save_connection(
            session, server.context.secret_box, tenant.account_id, request, profile
        )
        return platform_id(platform, connection.external_id)

    found: str = server.transaction(save)
    return found
