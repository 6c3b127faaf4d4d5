"""A client that costs next to nothing: HTTP/1.1 keep-alive over asyncio Protocols, for the floor.

bench/http_ceiling.py --raw-client uses it to ask what the simulator alone allows on this machine.
Each request is captured before T0 as Herald's HTTP client writes it (the same bytes on the
wire, sent to a capturing server on loopback); after T0 a call is a socket write and a
Content-Length-framed read. It knows only what
the sandbox simulator answers with (a status line, headers, a Content-Length body) and is not a
general HTTP client: never use it outside bench/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import cast

HEAD_END = b"\r\n\r\n"
_CAPTURED_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n"
    b'{"id": "captured", "url": ""}'
)


async def capture_requests(
    url: str, indexes: range, send: Callable[[str, int], Awaitable[None]]
) -> dict[int, bytes]:
    """The bytes `send(capture_url, index)` puts on the wire for each index, captured by a
    loopback server and readdressed to `url`'s host (Content-Length bodies only)."""
    captured: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(HEAD_END)
                body = await reader.readexactly(_content_length(head))
                captured.append(head + body)
                writer.write(_CAPTURED_ANSWER)
        except asyncio.IncompleteReadError:
            writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    own_host = f"Host: 127.0.0.1:{port}".encode()
    real_host = f"Host: {url.removeprefix('http://').rstrip('/')}".encode()
    requests: dict[int, bytes] = {}
    try:
        for index in indexes:
            await send(f"http://127.0.0.1:{port}", index)
            requests[index] = captured.pop().replace(own_host, real_host, 1)
    finally:
        server.close()
    return requests


class RawConnection(asyncio.Protocol):
    """One keep-alive connection: a write, then a future the next whole response resolves."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._answer: asyncio.Future[bytes] | None = None
        self._transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's, so no isinstance check here.
        self._transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(HEAD_END)
        if end < 0:
            return
        length = _content_length(bytes(self._buffer[:end]))
        whole = end + len(HEAD_END) + length
        if len(self._buffer) < whole or self._answer is None:
            return
        response = bytes(self._buffer[:whole])
        del self._buffer[:whole]
        answer, self._answer = self._answer, None
        answer.set_result(response)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc or ConnectionError("closed before the answer"))

    async def exchange(self, request: bytes) -> bytes:
        assert self._transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return await self._answer


class RawClient:
    """Idle connections to one host, reused last-in first-out; a new one when none is idle."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._idle: list[RawConnection] = []

    async def exchange(self, request: bytes) -> int:
        """Send `request`; answer the response's status code."""
        if self._idle:
            connection = self._idle.pop()
        else:
            loop = asyncio.get_running_loop()
            _, connection = await loop.create_connection(RawConnection, self._host, self._port)
        response = await connection.exchange(request)
        self._idle.append(connection)
        return int(response[9:12])


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError("the raw client reads only Content-Length responses")
