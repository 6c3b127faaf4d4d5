"""The engine's HTTP client: httpx over Herald's own HTTP/1.1 transport (engine/http11.py).

One client carries every call, with up to `concurrency` connections. httpx's default transport
(httpcore, h11 and their anyio locks) cost about 30 % of `herald serve`'s CPU in a burst; the
transport in http11.py does the same HTTP/1.1 exchange in a fraction of it (bench/README.md).

An explicit transport makes httpx ignore HTTP(S)_PROXY and NO_PROXY, so when the environment
names a proxy the engine keeps httpx's own transports instead, in slices of SLICE connections:
httpcore's pool walks every connection it holds on each request, and small slices keep the walk
short. Calls take the slices in turn, which keeps them equally busy (hashing targets to slices
left some queueing while others idled: 182 against 227 requests/s at C = 500 and L = 2 s).

Either way the client keeps no cookies (_NoCookies), follows no redirects (a platform API that
redirects a POST is misconfigured, and each hop would be another address to vet), and all
connections share one TLS context, since building one loads the CA bundle (milliseconds each).

Every connection goes through the egress policy (net/egress.py). On Herald's transport it is
checked where the TCP connection opens, on the address then connected to. Behind a proxy the
proxy connects, so the policy vets each request's host before it leaves (a request hook): an
address literal or a name that resolves here must be permitted. The proxy looks the name up
again, and resolves the names this host cannot: for those, the proxy's own rules apply."""

from __future__ import annotations

import contextlib
import http.cookiejar
import ssl
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from herald.engine.http11 import Http11Transport
from herald.net.egress import EgressPolicy

SLICE = 16
# Below common servers' idle timeouts (uvicorn's is 5 s): reusing a connection the server is
# closing fails with a read error, and a failed send is in doubt until reconciled.
KEEPALIVE_EXPIRY = 2.0
CONNECT_TIMEOUT = 5.0
# Redirects are not followed (httpx's default, kept explicit); should a caller ask for them,
# each hop goes through the egress policy again, and there are at most this many.
MAX_REDIRECTS = 3
# Connections of a client made for one call, such as verifying credentials.
ONE_OFF_CONNECTIONS = 4


class HttpClients:
    def __init__(
        self,
        concurrency: int,
        timeout_seconds: float,
        tls: ssl.SSLContext | None = None,
        *,
        egress: EgressPolicy,
        httpx_transports: bool = False,
    ) -> None:
        """`egress` decides which addresses the clients may connect to. `httpx_transports`
        forces what a proxy in the environment chooses: httpx's own transports
        (bench/http_ceiling.py --httpx-backend compares the two)."""
        tls = tls or httpx.create_ssl_context()
        timeout = httpx.Timeout(timeout_seconds, connect=CONNECT_TIMEOUT)
        if httpx_transports or _proxy_configured():
            # An explicit transport would make httpx ignore HTTP(S)_PROXY and NO_PROXY, so behind
            # a proxy the engine keeps httpx's own transports, in slices (see the module doc).
            count = max(1, -(-concurrency // SLICE))
            per_client = -(-concurrency // count)
            self._clients = [
                httpx_transport_client(tls, per_client, timeout, egress) for _ in range(count)
            ]
        else:
            transport = Http11Transport(tls, concurrency, KEEPALIVE_EXPIRY, egress)
            client = httpx.AsyncClient(
                timeout=timeout,
                transport=transport,
                cookies=_NoCookies(),
                follow_redirects=False,
                max_redirects=MAX_REDIRECTS,
            )
            self._clients = [client]
        self._turn = 0

    def next_client(self) -> httpx.AsyncClient:
        """The client whose turn it is."""
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


@asynccontextmanager
async def one_off_client(
    egress: EgressPolicy, timeout_seconds: float
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a few calls outside the engine (verifying credentials when connecting an
    account), under the same egress policy; closed when the block ends."""
    clients = HttpClients(ONE_OFF_CONNECTIONS, timeout_seconds, egress=egress)
    try:
        yield clients.next_client()
    finally:
        await clients.aclose()


def httpx_transport_client(
    tls: ssl.SSLContext, connections: int, timeout: httpx.Timeout, egress: EgressPolicy
) -> httpx.AsyncClient:
    """One slice on httpx's own transport and network backend."""
    limits = httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )

    async def vet(request: httpx.Request) -> None:
        # Runs for every request, redirect hops included, before it is sent.
        url = request.url
        with contextlib.suppress(OSError):
            # A name this host cannot resolve is the proxy's to resolve, and its rules apply.
            await egress.vet(url.host, url.port or (443 if url.scheme == "https" else 80))

    return httpx.AsyncClient(
        timeout=timeout,
        verify=tls,
        limits=limits,
        cookies=_NoCookies(),
        follow_redirects=False,
        max_redirects=MAX_REDIRECTS,
        event_hooks={"request": [vet]},
    )


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
