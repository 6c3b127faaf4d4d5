"""`herald connections add <platform>` against `herald sim <platform>`, both real processes.

Each simulator starts with its demo account (see the simulators' configs); the command checks the
credentials with it, stores the profile and prints the platform id in Publora's format.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from cli_support import herald, herald_json
from herald.sim.bluesky_config import DEMO_ACCOUNT
from herald.sim.mastodon_config import DEFAULT_ACCOUNT
from herald.sim.telegram_config import DEMO_TOKEN
from support import LiveServer


@contextmanager
def simulator(platform: str, ready_path: str) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-m", "herald", "sim", platform, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                httpx.get(base + ready_path, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"herald sim {platform} did not come up"
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=10)  # reaps it and closes the pipe


@pytest.fixture
def account_id(server: LiveServer) -> str:
    created: str = herald_json(server.settings, "accounts", "create", "Acme")["accountId"]
    return created


def test_bluesky(server: LiveServer, account_id: str) -> None:
    with simulator("bluesky", "/_sim/stats") as pds:
        args = ["connections", "add", "bluesky", "--account", account_id, "--pds", pds]
        added = herald_json(
            server.settings,
            *args,
            "--handle",
            DEMO_ACCOUNT.handle,
            "--app-password",
            DEMO_ACCOUNT.app_password,
        )
        assert added["platformId"] == f"bluesky-{DEMO_ACCOUNT.did}"
        assert added["platformId"].startswith("bluesky-did:plc:")
        wrong = herald(
            server.settings,
            *args,
            "--handle",
            DEMO_ACCOUNT.handle,
            "--app-password",
            "wrong-pass-word-xxxx",
            check=False,
        )
        assert wrong.returncode == 1
        assert "Bluesky" in wrong.stderr
        assert "wrong-pass-word-xxxx" not in wrong.stderr + wrong.stdout


def test_mastodon(server: LiveServer, account_id: str) -> None:
    with simulator("mastodon", "/api/v2/instance") as instance:
        args = ["connections", "add", "mastodon", "--account", account_id, "--instance", instance]
        added = herald_json(server.settings, *args, "--token", DEFAULT_ACCOUNT.token)
        assert added["platformId"] == f"mastodon-{DEFAULT_ACCOUNT.id}"
        wrong = herald(server.settings, *args, "--token", "not-the-token", check=False)
        assert wrong.returncode == 1
        assert "Mastodon" in wrong.stderr
        assert "not-the-token" not in wrong.stderr


def test_telegram(server: LiveServer, account_id: str) -> None:
    with simulator("telegram", "/_sim/stats") as api:
        args = ["connections", "add", "telegram", "--account", account_id, "--api-url", api]
        added = herald_json(
            server.settings, *args, "--bot-token", DEMO_TOKEN, "--chat", "@herald_demo"
        )
        assert added["platformId"] == "telegram--1001000000001"
        listed = herald_json(server.settings, "connections", "list")["connections"]
        assert [c["username"] for c in listed] == ["@herald_demo"]
        stranger = herald(
            server.settings, *args, "--bot-token", DEMO_TOKEN, "--chat", "@nobody_here", check=False
        )
        assert stranger.returncode == 1
        assert "Telegram" in stranger.stderr
        bad_token = "123456789:AAnot-the-right-token-at-all"
        wrong = herald(
            server.settings, *args, "--bot-token", bad_token, "--chat", "@herald_demo", check=False
        )
        assert wrong.returncode == 1
        assert "Telegram" in wrong.stderr
        assert bad_token not in wrong.stderr
