"""SandboxConnector.verify against the sandbox simulator over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from herald.platforms.base import AuthExpiredError, Profile, RejectedError, RetryableError
from herald.platforms.sandbox.connector import SandboxConnector
from herald.sim.sandbox import SandboxConfig, create_sandbox_app
from sim_support import closed_port, serve_in_thread


@pytest.fixture(scope="module")
def guarded_sim() -> Iterator[str]:
    with serve_in_thread(create_sandbox_app(SandboxConfig(token="right-token"))) as base_url:
        yield base_url


def verify(options: dict[str, Any], credentials: dict[str, Any]) -> Profile:
    async def call() -> Profile:
        async with httpx.AsyncClient(timeout=5) as client:
            return await SandboxConnector().verify(client, credentials, options)

    return asyncio.run(call())


def test_each_verify_names_a_fresh_account(guarded_sim: str) -> None:
    first = verify({"baseUrl": guarded_sim}, {"token": "right-token"})
    second = verify({"baseUrl": guarded_sim}, {"token": "right-token"})
    assert first.external_id != second.external_id
    assert first.username == f"@sandbox_{first.external_id[:6]}"
    assert first.display_name == "Herald Sandbox"


def test_a_wrong_token_is_refused_without_echoing_it(guarded_sim: str) -> None:
    with pytest.raises(AuthExpiredError) as refused:
        verify({"baseUrl": guarded_sim}, {"token": "wrong-token"})
    assert "sandbox refused the credentials" in refused.value.message
    assert "wrong-token" not in refused.value.message


def test_an_unreachable_or_missing_simulator() -> None:
    with pytest.raises(RetryableError, match="Could not reach the sandbox"):
        verify({"baseUrl": f"http://127.0.0.1:{closed_port()}"}, {})
    with pytest.raises(RejectedError, match="no baseUrl"):
        verify({}, {})
