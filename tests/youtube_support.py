"""Helpers for YouTube tests: the simulator on a loopback port (one per module, reset per test)
and its control API, tokens minted without the consent page, small video files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from herald.sim.youtube import YouTubeConfig, create_youtube_app
from sim_support import HANG_S, SimControl, reset_for_test, serve_in_thread

CLIENT_ID = "herald-test.apps.googleusercontent.com"
CLIENT_SECRET = "google-test-secret-31c9"
REDIRECT_URI = "http://127.0.0.1:9/connect/youtube/callback"
CHANNEL_ID = "UCtestChannel00000000001"
PLAYLIST_ID = "PLtestPlaylist000000001"
KIB = 1024


def sim_config(**changes: Any) -> YouTubeConfig:
    values: dict[str, Any] = {
        "hang_s": HANG_S,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": (REDIRECT_URI,),
        "channel_id": CHANNEL_ID,
        "playlist_ids": (PLAYLIST_ID,),
    }
    values.update(changes)
    return YouTubeConfig(**values)


def video_bytes(size: int, seed: int = 7) -> bytes:
    """`size` bytes that look like an MP4 (an ftyp box first) and differ by seed."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    body = bytes((seed * 31 + i * 7) % 251 for i in range(4096))
    data = head + body * (size // len(body) + 1)
    return data[:size]


class YouTubeControl(SimControl):
    def token(self, **fields: Any) -> str:
        answer: dict[str, Any] = self._ok(self.http.post("/_sim/tokens", json=fields))
        access: str = answer["access_token"]
        return access

    def mint(self, **fields: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._ok(self.http.post("/_sim/tokens", json=fields))
        return answer

    def script_upload(self, *faults: str) -> None:
        self._ok(self.http.post("/_sim/script", json={"upload": list(faults)}))

    def videos(self) -> list[dict[str, Any]]:
        return self.listing("videos")

    def sessions(self) -> list[dict[str, Any]]:
        return self.listing("sessions")

    def extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = self._ok(self.http.get("/_sim/extras"))
        return extras


@pytest.fixture(scope="module")
def youtube_sim_url() -> Iterator[str]:
    with serve_in_thread(create_youtube_app(sim_config())) as url:
        yield url


@pytest.fixture
def youtube_sim(youtube_sim_url: str) -> Iterator[YouTubeControl]:
    yield from reset_for_test(YouTubeControl(youtube_sim_url))
