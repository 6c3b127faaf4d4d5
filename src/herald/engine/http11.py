"""A small HTTP/1.1 transport for the engine's httpx clients, on engine/asyncio_backend streams.

In a publishing burst httpcore's pool, its h11 state machine and their anyio locks and cancel
shields were about 30 % of `herald serve`'s CPU (py-spy, bench/lateness.py), more than the
engine's own work. This transport does what the engine needs and nothing else:
- HTTP/1.1 keep-alive connections pooled per origin, reused last-in first-out; an idle one is
  dropped after KEEPALIVE_EXPIRY, or at once if the server sent anything or closed it;
- request bodies written as httpx frames them (Content-Length, or chunked for streams);
- response bodies framed by RFC 9112 §6.3: none for HEAD, 1xx, 204 and 304; chunked; a
  Content-Length; else until the server closes;
- TLS through the stream's start_tls; httpx's connect, read, write and pool timeouts.
Reading the answer (head, framing, body) is engine/http11_response.py. It does not do proxies
(HttpClients keeps httpx's own transports when a proxy is configured), HTTP/2 or upgrades.

Errors keep the safety split the connectors rely on (platforms/_http.py NOT_SENT): only a failure
before the first byte of the request is written is a ConnectError, ConnectTimeout or
PoolTimeout. Anything later is a WriteError, ReadError, a timeout of those, or a
RemoteProtocolError: the post may exist. When writing the body fails, the server may already
have answered (a 413 to an upload it will not take): that answer is returned, as httpcore does.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from typing import cast

import httpcore
import httpx

from herald.engine.asyncio_backend import connect_tcp
from herald.engine.http11_response import (
    CRLF,
    HEAD_END,
    Connection,
    Origin,
    Release,
    as_httpx,
    read_head,
    response,
)
from herald.net.egress import EgressPolicy

# How often idle connections to every origin are swept for expiry, not only the one in use.
SWEEP_EVERY_S = 1.0


class Http11Transport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        tls: ssl.SSLContext,
        max_connections: int,
        keepalive_expiry: float,
        egress: EgressPolicy,
    ) -> None:
        self._tls = tls
        self._egress = egress
        self._expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[Origin, deque[Connection]] = {}
        self._swept_at = 0.0
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("the engine's HTTP transport is closed", request=request)
        timeouts = request.extensions.get("timeout", {})
        await self._take_slot(request, timeouts.get("pool"))
        try:
            connection = await self._checkout(
                request, _origin(request.url), timeouts.get("connect")
            )
            try:
                return await _exchange(connection, request, timeouts, self.release)
            except BaseException:
                connection.stream.close()
                raise
        except BaseException:
            self._slots.release()
            raise

    async def _take_slot(self, request: httpx.Request, timeout: float | None) -> None:  # noqa: ASYNC109
        if not self._slots.locked():
            await self._slots.acquire()  # free slot: returns without suspending
            return
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection free in time", request=request) from None

    async def _checkout(
        self,
        request: httpx.Request,
        origin: Origin,
        timeout: float | None,  # noqa: ASYNC109
    ) -> Connection:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_EVERY_S:
            self._swept_at = now
            self._sweep(now)
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.usable(now, self._expiry):
                return connection
            connection.stream.close()
        return await self._connect(request, origin, timeout)

    async def _connect(
        self,
        request: httpx.Request,
        origin: Origin,
        timeout: float | None,  # noqa: ASYNC109
    ) -> Connection:
        scheme, host, port = origin
        try:
            # The egress policy is checked here, where the address is chosen; TLS still
            # verifies the certificate and sends SNI for the name the URL gave.
            stream = await connect_tcp(host, port, timeout, self._egress)
            if scheme == b"https":
                stream = await stream.start_tls(self._tls, host, timeout)
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            raise as_httpx(exc, request) from None
        return Connection(origin, stream)

    def release(self, connection: Connection, reusable: bool) -> None:
        """Back to the pool (or closed), and the slot freed: the response is done with."""
        self._slots.release()
        if reusable and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(connection.origin, deque()).append(connection)
        else:
            connection.stream.close()

    def _sweep(self, now: float) -> None:
        for origin, idle in list(self._idle.items()):
            while idle and now - idle[0].idle_since >= self._expiry:
                idle.popleft().stream.close()
            if not idle:
                del self._idle[origin]

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.stream.close()


async def _exchange(
    connection: Connection,
    request: httpx.Request,
    timeouts: dict[str, float | None],
    release: Release,
) -> httpx.Response:
    """Write the request, read the answer's head; the body is read later, as httpx asks."""
    read_timeout = timeouts.get("read")
    try:
        await _send(connection, request, timeouts.get("write"))
    except (httpcore.WriteError, httpcore.WriteTimeout) as write_failure:
        # The server may have answered before reading the whole body, then stopped reading.
        try:
            head = await read_head(connection, read_timeout, request)
        except (httpcore.ReadError, httpcore.ReadTimeout, httpx.RemoteProtocolError):
            raise as_httpx(write_failure, request) from None
        return response(connection, request, head, False, release)
    try:
        head = await read_head(connection, read_timeout, request)
    except (httpcore.ReadError, httpcore.ReadTimeout) as exc:
        raise as_httpx(exc, request) from None
    return response(connection, request, head, True, release)


async def _send(connection: Connection, request: httpx.Request, timeout: float | None) -> None:  # noqa: ASYNC109
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    lines += [name + b": " + value for name, value in request.headers.raw]
    head = CRLF.join(lines) + HEAD_END
    stream = request.stream
    if isinstance(stream, httpx.ByteStream):  # json=, content=bytes, data=: one write
        await connection.stream.write(head + b"".join(stream), timeout)
        return
    await connection.stream.write(head, timeout)
    chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
    async for chunk in cast(httpx.AsyncByteStream, stream):
        if not chunk:
            continue
        if chunked:
            chunk = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        await connection.stream.write(chunk, timeout)
    if chunked:
        await connection.stream.write(b"0\r\n\r\n", timeout)


def _origin(url: httpx.URL) -> Origin:
    return (url.raw_scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
