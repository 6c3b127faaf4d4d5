"""Helpers for simulator tests: an ASGI app served on a loopback port, and the sim's control API."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import httpx
import uvicorn
from starlette.types import ASGIApp

from herald.domain.platform import Platform
from herald.net.egress import EgressPolicy
from herald.net.http_client import HttpClient
from herald.platforms.base import Connector, MediaItem, Published, PublishRequest

# Short enough that a held ("timeout"/"lost_response") request outlasts the client's timeout
# by a wide margin, long enough that no test waits for it: the sim stops holding on hang-up.
HANG_S = 3.0
CLIENT_TIMEOUT_S = 1.0
# For platform calls nothing holds on purpose (verifying the account a test then connects): the
# only way they outlast CLIENT_TIMEOUT_S is a loaded machine, where a second is not enough (CI
# saw such a connect check time out under the full parallel suite).
UNHELD_CALL_TIMEOUT_S = 10.0
ControlT = TypeVar("ControlT", bound="SimControl")
# The simulators listen on loopback, which the default policy refuses.
LOOPBACK_OPEN = EgressPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))


@asynccontextmanager
async def platform_client(
    timeout_seconds: float = CLIENT_TIMEOUT_S,
    *,
    connections: int = 8,
    pool_timeout: float | None = None,
) -> AsyncIterator[HttpClient]:
    """The client connectors get from the engine, open to loopback; closed when the block ends."""
    client = HttpClient(
        connections, timeout_seconds, egress=LOOPBACK_OPEN, pool_timeout=pool_timeout
    )
    try:
        yield client
    finally:
        await client.aclose()


@contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread with its own loop; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Without it, a pre-bound socket's connections answer small requests after a ~40 ms
    # delayed-ACK stall (Nagle), and every test request pays it.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(server.serve(sockets=[sock])), daemon=True
    )
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "simulator did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "simulator did not shut down"
        loop.close()
        sock.close()


def publish_to_a_hang_up(
    connector: Connector, request_at: Callable[[str], PublishRequest], key: str
) -> Published:
    """`connector.publish` of `request_at(base_url)` to a loopback server that reads the request's
    head, then hangs up without answering: a connection dropped after the request was sent."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()
        await writer.wait_closed()

    async def scenario() -> Published:
        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, platform_client() as http:
            return await connector.publish(http, request_at(f"http://127.0.0.1:{port}"), key)

    return asyncio.run(scenario())


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class SimControl:
    """The simulator's control API over HTTP, plus plain calls to its platform API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def close(self) -> None:
        self.http.close()

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()

    def reset(self) -> None:
        self._ok(self.http.post("/_sim/reset"))

    def configure(self, **changes: Any) -> dict[str, Any]:
        config: dict[str, Any] = self._ok(self.http.post("/_sim/config", json=changes))
        return config

    def script(self, *faults: str) -> None:
        self._ok(self.http.post("/_sim/script", json={"faults": list(faults)}))

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self._ok(self.http.get("/_sim/stats"))
        return stats

    def listing(self, name: str, **filters: str | None) -> list[dict[str, Any]]:
        """GET /_sim/<name> with the filters that are not None; the list under "<name>"."""
        params = {key: value for key, value in filters.items() if value is not None}
        found: list[dict[str, Any]] = self._ok(self.http.get(f"/_sim/{name}", params=params))[name]
        return found

    def posts(self, ref: str | None = None) -> list[dict[str, Any]]:
        return self.listing("posts", ref=ref)

    def create(
        self, body: dict[str, Any], key: str | None = None, **headers: str
    ) -> httpx.Response:
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.http.post("/v1/posts", json=body, headers=headers)


def reset_for_test(control: ControlT) -> Iterator[ControlT]:
    """A fixture's body: `control` on a freshly reset simulator, closed after the test."""
    control.reset()
    yield control
    control.close()


def publish_request(base_url: str, **fields: Any) -> PublishRequest:
    """A sandbox PublishRequest aimed at `base_url`; `fields` override the defaults."""
    values: dict[str, Any] = {
        "target_id": "target-1",
        "platform": Platform.SANDBOX,
        "account_external_id": "acct-1",
        "text": "Hello from Herald",
        "options": {"baseUrl": base_url},
        "media": (MediaItem("image", "image/png", "https://cdn.example/a.png", "A cat"),),
    }
    values.update(fields)
    return PublishRequest(**values)


# Every /_sim/ route of the sandbox simulator: served only when its app is made with `control`.
SANDBOX_CONTROL_ROUTES = [
    ("GET", "/_sim/posts"),
    ("GET", "/_sim/config"),
    ("POST", "/_sim/config"),
    ("POST", "/_sim/script"),
    ("GET", "/_sim/stats"),
    ("POST", "/_sim/reset"),
    ("POST", "/_sim/release"),
]
