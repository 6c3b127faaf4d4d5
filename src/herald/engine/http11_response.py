"""Reading an HTTP/1.1 response off one connection of engine/http11.py: the head, how its body
is framed (RFC 9112 §6.3), and the body as the stream httpx reads.

Errors from the stream (httpcore's, raised by engine/asyncio_backend) become httpx's own here,
with the same meaning: nothing read here is ever "not sent"."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpcore
import httpx

from herald.engine.asyncio_backend import AsyncioStream

MAX_HEAD_BYTES = 64 * 1024
READ_CHUNK = 64 * 1024
HEAD_END = b"\r\n\r\n"
CRLF = b"\r\n"

Origin = tuple[bytes, str, int]

_MAPPED: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
)


def as_httpx(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    for theirs, ours in _MAPPED:
        if isinstance(exc, theirs):
            return ours(str(exc), request=request)
    raise exc


class Connection:
    """One socket: its origin, the stream, bytes read past the last response, and when it fell
    idle."""

    __slots__ = ("idle_since", "leftover", "origin", "stream")

    def __init__(self, origin: Origin, stream: AsyncioStream) -> None:
        self.origin = origin
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


class Head:
    __slots__ = ("headers", "reason", "status", "version")

    def __init__(
        self, version: bytes, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.version, self.status, self.reason, self.headers = version, status, reason, headers

    def values(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key.lower() == name]


async def read_head(
    connection: Connection,
    timeout: float | None,  # noqa: ASYNC109
    request: httpx.Request,
) -> Head:
    """The next final response's head; 1xx interim responses are skipped."""
    while True:
        head = await _read_one_head(connection, timeout, request)
        if head.status >= 200:
            return head
        if head.status == 101:
            raise httpx.RemoteProtocolError("the server switched protocols", request=request)


async def _read_one_head(
    connection: Connection,
    timeout: float | None,  # noqa: ASYNC109
    request: httpx.Request,
) -> Head:
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


def _parse_head(raw: bytes, request: httpx.Request) -> Head:
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
    return Head(parts[0], int(parts[1]), reason, headers)


Release = Callable[[Connection, bool], None]  # (connection, reusable): the response is done


def response(
    connection: Connection,
    request: httpx.Request,
    head: Head,
    keep_alive: bool,
    release: Release,
) -> httpx.Response:
    """The httpx response for `head`; its body is read from `connection` as the caller asks."""
    body = _body_framing(head, request)
    keep_alive = (
        keep_alive
        and head.version == b"HTTP/1.1"
        and body != "close"
        and not _says_close(head.values(b"connection"))
        and not _says_close([request.headers.get("connection", "").encode("latin-1")])
    )
    stream = _ResponseBody(connection, body, keep_alive, request, release)
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


def _body_framing(head: Head, request: httpx.Request) -> int | str:
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


class _ResponseBody(httpx.AsyncByteStream):
    """The body, read as the caller iterates; closing it returns the connection or drops it."""

    def __init__(
        self,
        connection: Connection,
        framing: int | str,
        keep_alive: bool,
        request: httpx.Request,
        release: Release,
    ) -> None:
        self._connection = connection
        self._release = release
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
            raise as_httpx(exc, self._request) from None

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
        self._release(self._connection, reusable)
