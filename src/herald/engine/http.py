"""The engine's HTTP clients: one httpx pool per slice of the concurrency.

httpcore's pool walks every connection it holds, asking each whether it has expired, each time a
request starts or finishes: the cost of a request grows with the pool's size. Slices of SLICE
connections keep each walk short. Calls take the slices in turn, which keeps every slice equally
busy: hashing targets to slices left some slices queueing past their SLICE connections while
others idled (182 against 227 requests/s at C = 500 and L = 2 s, of an ideal 250). Every slice
talks to the same hosts, so keep-alive connections are reused whichever slice a call gets.

The pools run on herald.engine.asyncio_backend rather than httpcore's anyio backend, which made
that expiry check a system call per connection (see that module). All slices share one TLS
context, since building one loads the CA bundle (milliseconds each)."""

from __future__ import annotations

import http.cookiejar
import ssl
import urllib.request

import httpcore
import httpx

from herald.engine.asyncio_backend import AsyncioBackend

SLICE = 16
# Below common servers' idle timeouts (uvicorn's is 5 s): reusing a connection the server is
# closing fails with a read error, and a failed send is in doubt until reconciled.
KEEPALIVE_EXPIRY = 2.0
CONNECT_TIMEOUT = 5.0


class HttpClients:
    def __init__(
        self, concurrency: int, timeout_seconds: float, tls: ssl.SSLContext | None = None
    ) -> None:
        count = max(1, -(-concurrency // SLICE))
        per_client = -(-concurrency // count)
        tls = tls or httpx.create_ssl_context()
        timeout = httpx.Timeout(timeout_seconds, connect=CONNECT_TIMEOUT)
        # An explicit transport would make httpx ignore HTTP(S)_PROXY and NO_PROXY, so behind a
        # proxy the pools keep httpx's own transports (and its anyio backend).
        make = httpx_transport_client if _proxy_configured() else self._client
        self._clients = [make(tls, per_client, timeout) for _ in range(count)]
        self._turn = 0

    def _client(
        self, tls: ssl.SSLContext, connections: int, timeout: httpx.Timeout
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=timeout, transport=_transport(tls, connections), cookies=_NoCookies()
        )

    def next_client(self) -> httpx.AsyncClient:
        """The slice whose turn it is."""
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def httpx_transport_client(
    tls: ssl.SSLContext, connections: int, timeout: httpx.Timeout
) -> httpx.AsyncClient:
    """One slice on httpx's own transport and network backend."""
    limits = httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    return httpx.AsyncClient(timeout=timeout, verify=tls, limits=limits, cookies=_NoCookies())


class _NoCookies(http.cookiejar.CookieJar):
    """A jar that keeps nothing. The pools carry every account's calls, and httpx would send a
    cookie one account's call was given on the next call to that host, whoever it is for.
    Platform APIs authenticate with tokens, never with cookies."""

    def extract_cookies(self, response: object, request: object) -> None:
        pass


def _proxy_configured() -> bool:
    """True when the environment names a proxy, as httpx reads it (urllib's getproxies)."""
    proxies = urllib.request.getproxies()
    return any(scheme in proxies for scheme in ("http", "https", "all"))


def _transport(tls: ssl.SSLContext, connections: int) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(verify=tls)
    # httpx 0.28 takes no network backend, so the pool is rebuilt with the settings httpx would
    # give it and ours. tests/engine/test_http_backend.py fails if httpx stops using `_pool`.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=KEEPALIVE_EXPIRY,
        network_backend=AsyncioBackend(),
    )
    return transport
