"""The heaviest create-posts one tenant may send never make another tenant's requests fail."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from support import LiveServer, Tenant

FLAGS_AT_THE_MAXIMUM = "\U0001f1fa\U0001f1f8" * 50_000  # 100,000 characters, one "word"
# An answer slower than this is a failed request; a healthy server answers in milliseconds.
CLIENT_TIMEOUT_S = 60.0


def _post(server: LiveServer, tenant: Tenant, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client(
        base_url=server.base_url + "/api/v1",
        headers={"x-publora-key": tenant.api_key},
        timeout=CLIENT_TIMEOUT_S,
    ) as client:
        return client.post("/create-post", json=body)


def _healthz(server: LiveServer) -> httpx.Response:
    return httpx.get(server.base_url + "/healthz", timeout=CLIENT_TIMEOUT_S)


def _outcome(call: Callable[[], httpx.Response]) -> int | str:
    try:
        return call().status_code
    except httpx.TransportError as exc:
        return type(exc).__name__


def test_heavy_create_posts_do_not_fail_another_tenant(
    server: LiveServer, new_tenant: Callable[..., Tenant]
) -> None:
    heavy, other = new_tenant("Heavy"), new_tenant("Other")
    heavy_bodies = {
        # Planning a giant word of flags for the sandbox's thread.
        "flags": {"content": FLAGS_AT_THE_MAXIMUM, "platforms": [heavy.platform_id]},
        # As many well-formed unknown ids as allowed, with the biggest content.
        "unknown ids": {
            "content": FLAGS_AT_THE_MAXIMUM,
            "platforms": [f"sandbox-{i}" for i in range(50)],
        },
        # Far more ids than allowed: each used to cost a query under the write lock.
        "too many ids": {"content": "Hi", "platforms": [f"sandbox-{i}" for i in range(50_000)]},
    }
    with ThreadPoolExecutor(max_workers=len(heavy_bodies) + 2) as pool:
        heavy_calls: dict[str, Future[int | str]] = {
            name: pool.submit(_outcome, lambda body=body: _post(server, heavy, body))
            for name, body in heavy_bodies.items()
        }
        other_body = {"content": "Unrelated", "platforms": [other.platform_id]}
        # The other tenant keeps going while the heavy requests are (or may still be) running.
        other_calls = [
            pool.submit(_outcome, call)
            for _ in range(4)
            for call in (lambda: _post(server, other, other_body), lambda: _healthz(server))
        ]
        others = [call.result() for call in other_calls]
        outcomes = {name: call.result() for name, call in heavy_calls.items()}
    assert others == [200] * len(others)
    assert outcomes == {"flags": 200, "unknown ids": 400, "too many ids": 400}
    assert other.client.get("/list-posts").json()["pagination"]["totalItems"] == 4
