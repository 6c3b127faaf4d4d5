"""SandboxConnector.verify against the sandbox simulator over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from herald.config import Settings
from herald.errors import ValidationError
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.platforms.base import AuthExpiredError, Profile, RejectedError, RetryableError
from herald.platforms.sandbox.connector import SandboxConnector
from herald.services.connection import verify_account
from herald.services.connection_inputs import sandbox_input
from herald.sim.sandbox import SandboxConfig, create_sandbox_app
from sim_support import closed_port, platform_client, serve_in_thread
from support import TEST_SETTINGS


@pytest.fixture(scope="module")
def guarded_sim() -> Iterator[str]:
    with serve_in_thread(create_sandbox_app(SandboxConfig(token="right-token"))) as base_url:
        yield base_url


def verify(options: dict[str, Any], credentials: dict[str, Any]) -> Profile:
    async def call() -> Profile:
        async with platform_client(5) as client:
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


def connect_sandbox(base_url: str, settings: Settings) -> Profile:
    """verify_account as POST /platform-connections runs it, for a sandbox at `base_url`."""

    async def call() -> Profile:
        egress = EgressPolicy.from_settings(settings)
        async with one_off_client(egress, 5.0) as client:
            return await verify_account(sandbox_input({"baseUrl": base_url}), client, settings)

    return asyncio.run(call())


def test_another_simulator_needs_the_operator_s_consent_and_then_the_egress_policy(
    tmp_path: Path,
) -> None:
    app = create_sandbox_app()
    with serve_in_thread(app) as other_sim:
        closed = Settings(data_dir=tmp_path)
        with pytest.raises(ValidationError, match="only publish to Herald's own simulator"):
            connect_sandbox(other_sim, closed)
        consenting = closed.model_copy(update={"sandbox_allow_any_url": True})
        with pytest.raises(ValidationError) as denied:
            connect_sandbox(other_sim, consenting)  # loopback, which egress still refuses
        assert denied.value.code == "EGRESS_DENIED"
        assert app.state.sandbox.lookups == 0
        opened = consenting.model_copy(update={"egress_allow": TEST_SETTINGS["egress_allow"]})
        assert connect_sandbox(other_sim, opened).display_name == "Herald Sandbox"
        assert app.state.sandbox.lookups == 1  # verified by asking the simulator
