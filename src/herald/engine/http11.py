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
It does not do proxies (HttpClients keeps httpx's own transports when a proxy is configured),
HTTP/2 or protocol upgrades.

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
from collections.abc import AsyncIterator
from typing import Any, cast

import httpcore
import httpx

from herald.engine.asyncio_backend import AsyncioBackend, AsyncioStream

MAX_HEAD_BYTES = 64 * 1024
READ_CHUNK = 64 * 1024
HEAD_END = b"\r\n\r\n"
CRLF = b"\r\n"
# How often idle connections to every origin are swept for expiry, not only the one in use.
SWEEP_EVERY_S = 1.0

_Origin = tuple[bytes, str, int]

_MAPPED: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
)


def _as_httpx(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    for theirs, ours in _MAPPED:
        if isinstance(exc, theirs):
            return ours(str(exc), request=request)
    raise exc


class _Connection:
    """One socket: the stream, bytes read past the last response, and when it fell idle."""

    __slots__ = ("idle_since", "leftover", "stream")

    def __init__(self, stream: AsyncioStream) -> None:
        self.stream = stream
        self.leftover = bytearray()
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        """Idle, not expired, and the server has neither sent anything nor closed it."""
        return (
            now - self.idle_since < expiry
            and not self.leftover
            and not self.stream.get_extra_info("is_readable")
        )

    async def fill(self, timeout: float | None) -> bool:  # noqa: ASYNC109
        """Read more into `leftover`; False when the server closed the connection."""
        data = await self.stream.read(READ_CHUNK, timeout)
        self.leftover += data
        return bool(data)


class Http11Transport(httpx.AsyncBaseTransport):
    def __init__(self, tls: ssl.SSLContext, max_connections: int, keepalive_expiry: float) -> None:
        self._tls = tls
        self._backend = AsyncioBackend()
        self._expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._swept_at = 0.0
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("the engine's HTTP transport is closed", request=request)
        timeouts = request.extensions.get("timeout", {})
        await self._take_slot(request, timeouts.get("pool"))
        try:
            connection = await self._checkout(request, timeouts.get("connect"))
            try:
                return await _exchange(self, connection, request, timeouts)
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

    async def _checkout(self, request: httpx.Request, timeout: float | None) -> _Connection:  # noqa: ASYNC109
        url = request.url
        origin = (url.raw_scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
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
        origin: _Origin,
        timeout: float | None,  # noqa: ASYNC109
    ) -> _Connection:
        scheme, host, port = origin
        try:
            stream = await self._backend.connect_tcp(host, port, timeout)
            if scheme == b"https":
                stream = await stream.start_tls(self._tls, host, timeout)
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            raise _as_httpx(exc, request) from None
        return _Connection(cast(AsyncioStream, stream))

    def _release(self, connection: _Connection, origin: _Origin, reusable: bool) -> None:
        """Back to the pool (or closed), and the slot freed: the response is done with."""
        self._slots.release()
        if reusable and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(origin, deque()).append(connection)
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
    transport: Http11Transport,
    connection: _Connection,
    request: httpx.Request,
    timeouts: dict[str, float | None],
) -> httpx.Response:
    read_timeout = timeouts.get("read")
    try:
        await _send(connection, request, timeouts.get("write"))
    except (httpcore.WriteError, httpcore.WriteTimeout) as write_failure:
        # The server may have answered before reading the whole body, then stopped reading.
        try:
            head = await _read_head(connection, read_timeout, request)
        except (httpcore.ReadError, httpcore.ReadTimeout, httpx.RemoteProtocolError):
            raise _as_httpx(write_failure, request) from None
        return _response(transport, connection, request, head, keep_alive=False)
    try:
        head = await _read_head(connection, read_timeout, request)
    except (httpcore.ReadError, httpcore.ReadTimeout) as exc:
        raise _as_httpx(exc, request) from None
    return _response(transport, connection, request, head, keep_alive=True)


async def _send(connection: _Connection, request: httpx.Request, timeout: float | None) -> None:  # noqa: ASYNC109
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


class _Head:
    __slots__ = ("headers", "reason", "status", "version")

    def __init__(
        self, version: bytes, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.version, self.status, self.reason, self.headers = version, status, reason, headers

    def values(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key.lower() == name]


async def _read_head(
    connection: _Connection,
    timeout: float | None,  # noqa: ASYNC109
    request: httpx.Request,
) -> _Head:
    """The next final response's head; 1xx interim responses are skipped."""
    while True:
        head = await _read_one_head(connection, timeout, request)
        if head.status >= 200:
            return head
        if head.status == 101:
            raise httpx.RemoteProtocolError("the server switched protocols", request=request)


async def _read_one_head(
    connection: _Connection,
    timeout: float | None,  # noqa: ASYNC109
    request: httpx.Request,
) -> _Head:
    buffer = connection.leftover
    searched = 0
    while (end := buffer.find(HEAD_END, max(0, searched - 3))) < 0:
        if len(buffer) > MAX_HEAD_BYTES:
            raise httpx.RemoteProtocolError("response head too long", request=request)
        searched = len(buffer)
        if not await connection.fill(timeout):
            what = "in the middle of the response head" if buffer else "without a response"
            raise httpx.RemoteProtocolError(f"server disconnected {what}", request=request)
    raw = bytes(buffer[:end])
    del buffer[: end + len(HEAD_END)]
    return _parse_head(raw, request)


def _parse_head(raw: bytes, request: httpx.Request) -> _Head:
    status_line, *lines = raw.split(CRLF)
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        message = f"malformed status line {status_line[:80]!r}"
        raise httpx.RemoteProtocolError(message, request=request)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}", request=request)
        headers.append((name, value.strip(b" \t")))
    reason = parts[2] if len(parts) == 3 else b""
    return _Head(parts[0], int(parts[1]), reason, headers)


def _response(
    transport: Http11Transport,
    connection: _Connection,
    request: httpx.Request,
    head: _Head,
    keep_alive: bool,
) -> httpx.Response:
    body = _body_framing(head, request)
    keep_alive = (
        keep_alive
        and head.version == b"HTTP/1.1"
        and body != "close"
        and not _says_close(head.values(b"connection"))
        and not _says_close([request.headers.get("connection", "").encode("latin-1")])
    )
    url = request.url
    origin = (url.raw_scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
    stream = _ResponseStream(transport, connection, origin, body, keep_alive, request)
    extensions: dict[str, Any] = {
        "http_version": head.version,
        "reason_phrase": head.reason,
        "network_stream": connection.stream,
    }
    return httpx.Response(
        head.status, headers=head.headers, stream=stream, request=request, extensions=extensions
    )


def _says_close(values: list[bytes]) -> bool:
    return any(token.strip().lower() == b"close" for value in values for token in value.split(b","))


def _body_framing(head: _Head, request: httpx.Request) -> int | str:
    """A byte count, "chunked", or "close" (read until the server closes)."""
    if request.method == "HEAD" or head.status in (204, 304) or head.status < 200:
        return 0
    codings = [c.strip().lower() for v in head.values(b"transfer-encoding") for c in v.split(b",")]
    if codings:
        return "chunked" if codings[-1] == b"chunked" else "close"
    lengths = {v.strip() for value in head.values(b"content-length") for v in value.split(b",")}
    if not lengths:
        return "close"
    if len(lengths) > 1 or not all(length.isdigit() for length in lengths):
        raise httpx.RemoteProtocolError("invalid Content-Length", request=request)
    return int(lengths.pop())


class _ResponseStream(httpx.AsyncByteStream):
    """The body, read as the caller iterates; closing it returns the connection or drops it."""

    def __init__(
        self,
        transport: Http11Transport,
        connection: _Connection,
        origin: _Origin,
        framing: int | str,
        keep_alive: bool,
        request: httpx.Request,
    ) -> None:
        self._transport = transport
        self._connection = connection
        self._origin = origin
        self._framing = framing
        self._keep_alive = keep_alive
        self._request = request
        self._timeout = request.extensions.get("timeout", {}).get("read")
        self._complete = False
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            if isinstance(self._framing, int):
                chunks = self._counted(self._framing)
            elif self._framing == "chunked":
                chunks = self._chunked()
            else:
                chunks = self._until_close()
            async for chunk in chunks:
                yield chunk
            self._complete = True
        except (httpcore.ReadError, httpcore.ReadTimeout) as exc:
            raise _as_httpx(exc, self._request) from None

    async def _counted(self, remaining: int) -> AsyncIterator[bytes]:
        connection = self._connection
        while remaining:
            if not connection.leftover and not await connection.fill(self._timeout):
                raise httpx.RemoteProtocolError(
                    f"server disconnected with {remaining} bytes of the body unsent",
                    request=self._request,
                )
            take = min(remaining, len(connection.leftover))
            chunk = bytes(connection.leftover[:take])
            del connection.leftover[:take]
            remaining -= take
            yield chunk

    async def _until_close(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while connection.leftover or await connection.fill(self._timeout):
            chunk = bytes(connection.leftover)
            connection.leftover.clear()
            yield chunk

    async def _chunked(self) -> AsyncIterator[bytes]:
        while True:
            size_line = await self._line()
            size_text = size_line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise httpx.RemoteProtocolError(
                    f"malformed chunk size {size_text[:20]!r}", request=self._request
                ) from None
            if size == 0:
                while await self._line():  # trailers, up to the blank line
                    pass
                return
            async for piece in self._counted(size):
                yield piece
            if await self._line():
                raise httpx.RemoteProtocolError("chunk not ended by CRLF", request=self._request)

    async def _line(self) -> bytes:
        connection = self._connection
        while (end := connection.leftover.find(CRLF)) < 0:
            if len(connection.leftover) > MAX_HEAD_BYTES:
                raise httpx.RemoteProtocolError("chunk line too long", request=self._request)
            if not await connection.fill(self._timeout):
                raise httpx.RemoteProtocolError(
                    "server disconnected in a chunked body", request=self._request
                )
        line = bytes(connection.leftover[:end])
        del connection.leftover[: end + len(CRLF)]
        return line

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        reusable = self._keep_alive and self._complete and not self._connection.leftover
        self._transport._release(self._connection, self._origin, reusable)
