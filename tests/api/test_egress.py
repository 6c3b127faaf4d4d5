"""The egress policy over real HTTP: with the default settings, connecting or publishing to a
loopback, private or otherwise non-public address is refused before any connection is made,
with one answer whether the port is open or closed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from herald.domain.platform import Platform, platform_id
from herald.platforms.base import Profile
from herald.services.connection import save_connection
from herald.services.connection_inputs import ConnectionInput
from sim_support import closed_port
from support import (
    LiveServer,
    Tenant,
    create_post,
    make_tenant,
    post_when,
    running_engine,
)


@pytest.fixture
def closed(default_server: LiveServer) -> LiveServer:
    return default_server


@pytest.fixture
def stranger(closed: LiveServer) -> Iterator[Tenant]:
    made = make_tenant(closed, "Stranger")
    yield made
    made.client.close()


class Listener:
    """A TCP listener that records every connection it is offered (and closes it at once)."""

    def __init__(self, host: str, family: socket.AddressFamily) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.seen: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, peer = self.sock.accept()
            except TimeoutError:
                continue
            self.seen.append(peer[0])
            connection.close()

    def close(self) -> list[str]:
        """Stop; every connection ever offered, including any still in the backlog."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.setblocking(False)
        while True:
            try:
                connection, peer = self.sock.accept()
            except BlockingIOError:
                break
            self.seen.append(peer[0])
            connection.close()
        self.sock.close()
        return self.seen


@contextmanager
def listening(host: str = "127.0.0.1") -> Iterator[Listener]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = Listener(host, family)
    try:
        yield listener
    finally:
        listener.close()


def _connect(tenant: Tenant, **body: Any) -> httpx.Response:
    return tenant.client.post("/platform-connections", json=body, timeout=30)


def _mastodon(tenant: Tenant, url: str) -> httpx.Response:
    return _connect(tenant, platform="mastodon", instanceUrl=url, accessToken="secret-token")


def _denied(response: httpx.Response, host: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "EGRESS_DENIED"
    assert body["error"] == body["message"]
    assert host in body["message"]
    message: str = body["message"]
    return message


@pytest.mark.parametrize(
    ("listen_on", "url", "host"),
    [
        ("127.0.0.1", "http://127.0.0.1:{port}", "127.0.0.1"),
        ("127.0.0.1", "http://2130706433:{port}", "2130706433"),
        ("127.0.0.1", "http://0x7f.1:{port}", "0x7f.1"),
        ("127.0.0.1", "http://127.1:{port}", "127.1"),
        ("127.0.0.1", "http://[::ffff:127.0.0.1]:{port}", "::ffff:127.0.0.1"),
        ("127.0.0.1", "http://localhost:{port}", "localhost"),
        ("::1", "http://[::1]:{port}", "::1"),
    ],
)
def test_mastodon_connect_to_loopback_is_refused_the_same_whether_open_or_closed(
    stranger: Tenant, listen_on: str, url: str, host: str
) -> None:
    with listening(listen_on) as listener:
        open_answer = _mastodon(stranger, url.format(port=listener.port))
        closed_answer = _mastodon(stranger, url.format(port=closed_port()))
    assert listener.seen == []
    assert _denied(open_answer, host) == _denied(closed_answer, host)
    assert "secret-token" not in open_answer.text
    listed = stranger.client.get("/platform-connections").json()["connections"]
    assert [c["platformId"] for c in listed] == [stranger.platform_id]


@pytest.mark.parametrize(
    "fields",
    [
        {
            "platform": "telegram",
            "botToken": "123456:" + "A" * 35,
            "chat": "@news",
            "apiUrl": "{url}",
        },
        {"platform": "bluesky", "handle": "a.test", "appPassword": "p", "pdsUrl": "{url}"},
    ],
)
def test_telegram_and_bluesky_connect_to_loopback_are_refused(
    stranger: Tenant, fields: dict[str, str]
) -> None:
    with listening() as listener:
        url = f"http://127.0.0.1:{listener.port}"
        answer = _connect(stranger, **{k: v.format(url=url) for k, v in fields.items()})
    assert listener.seen == []
    _denied(answer, "127.0.0.1")


def test_a_sandbox_connection_may_only_point_at_herald_s_own_simulator(
    closed: LiveServer, stranger: Tenant
) -> None:
    with listening() as listener:
        foreign = _connect(
            stranger, platform="sandbox", baseUrl=f"http://127.0.0.1:{listener.port}"
        )
    assert listener.seen == []
    assert foreign.status_code == 400, foreign.text
    assert foreign.json()["code"] == "EGRESS_DENIED"
    assert "own simulator" in foreign.json()["message"]
    elsewhere = _connect(stranger, platform="sandbox", baseUrl="https://sandbox.example.com")
    assert elsewhere.status_code == 400
    assert elsewhere.json()["code"] == "EGRESS_DENIED"
    own_url = closed.settings.resolved_sandbox_url  # what HERALD_SANDBOX_URL or serve set
    own = _connect(stranger, platform="sandbox", baseUrl=own_url)
    assert own.status_code == 201, own.text
    default = _connect(stranger, platform="sandbox")
    assert default.status_code == 201, default.text


def _aim(server: LiveServer, tenant: Tenant, platform: Platform, url: str) -> str:
    """A connection stored before the policy existed, aimed at `url`."""
    options, credentials = (
        ({"baseUrl": url}, {})
        if platform is Platform.SANDBOX
        else ({"instanceUrl": url}, {"accessToken": "secret-token"})
    )

    async def work(session: Any) -> str:
        request = ConnectionInput(platform, credentials=credentials, options=options)
        profile = Profile("7001", "@aimed", "Aimed")
        saved = await save_connection(
            session, server.context.secret_box, tenant.account_id, request, profile
        )
        return platform_id(platform, saved.external_id)

    return server.transaction(work)


@pytest.mark.parametrize("platform", [Platform.SANDBOX, Platform.MASTODON])
def test_publishing_to_a_denied_address_fails_for_good_without_connecting(
    closed: LiveServer, stranger: Tenant, platform: Platform
) -> None:
    settings = closed.settings.model_copy(
        update={"engine_http_timeout_seconds": 2.0, "engine_rescue_interval_seconds": 0.2}
    )
    with listening() as listener, running_engine(closed, settings):
        aimed = _aim(closed, stranger, platform, f"http://2130706433:{listener.port}")
        group_id = create_post(stranger, platforms=[aimed])
        body = post_when(stranger, group_id, "failed")
    assert listener.seen == []
    post = body["posts"][0]
    assert post["errorCode"] == "EGRESS_DENIED"
    assert "2130706433" in post["errorMessage"]
