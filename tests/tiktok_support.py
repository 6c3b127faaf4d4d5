"""Helpers for TikTok tests: the simulator on a loopback port (one per module, reset per test)
and its control API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from herald.sim.tiktok import TikTokConfig, create_tiktok_app
from sim_support import SimControl, reset_for_test, serve_in_thread

OPEN_ID = "-000testOpenId0000001"
USERNAME = "ada.tiktok"


class TikTokControl(SimControl):
    def mint(self, **fields: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._ok(self.http.post("/_sim/tokens", json=fields))
        return answer

    def token(self, **fields: Any) -> str:
        access: str = self.mint(**fields)["access_token"]
        return access


@pytest.fixture(scope="module")
def tiktok_sim_url() -> Iterator[str]:
    config = TikTokConfig(open_id=OPEN_ID, username=USERNAME, display_name="Ada on TikTok")
    with serve_in_thread(create_tiktok_app(config)) as url:
        yield url


@pytest.fixture
def tiktok_sim(tiktok_sim_url: str) -> Iterator[TikTokControl]:
    yield from reset_for_test(TikTokControl(tiktok_sim_url))
