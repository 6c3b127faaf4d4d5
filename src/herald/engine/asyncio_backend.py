"""Connections on plain asyncio transports, under the engine's HTTP/1.1 transport (http11.py).

It began as an httpcore network backend, replacing anyio's: each read and write there opened a
cancel scope and a deadline, and "has this idle connection expired?" polled the socket with a
system call. Here a connection is an asyncio.Protocol with its own buffer: reads wait on one
future with one timer, and "readable while idle" is a look at that buffer, with no system call.
It keeps httpcore's stream interface and error classes as its vocabulary (hence the `timeout`
parameters and their ASYNC109 exemptions), and http11 maps the errors to httpx's.

The split matters for safety: only a failure to *connect* is a ConnectError (the request was
certainly not sent); a failure once connected is a ReadError or WriteError, which the
connectors treat as "the post may exist"."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, cast

import httpcore
from httpcore import AsyncNetworkStream

from herald.net.egress import EgressPolicy, IPAddress

# Stop reading from the socket while this much is unread; responses the engine reads are small,
# but a misbehaving server must not fill memory.
READ_HIGH_WATER = 256 * 1024


class _Connection(asyncio.Protocol):
    """Buffers what arrives and wakes the one reader waiting for it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # close the transport: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if exc is not None:
            self.error = exc
        self._wake_reader()
        self._wake_writer(exc or ConnectionResetError("connection closed"))

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake_writer(None)

    # waiting

    def _wake_reader(self) -> None:
        waiter, self._read_waiter = self._read_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writer(self, exc: BaseException | None) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    async def wait_readable(self, limit_s: float | None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._read_waiter = waiter
        await _wait(waiter, limit_s)

    async def wait_drained(self, limit_s: float | None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiter = waiter
        await _wait(waiter, limit_s)


async def _wait(waiter: asyncio.Future[None], limit_s: float | None) -> None:
    """Await `waiter`; raise TimeoutError after `limit_s` seconds (one timer, no extra task,
    which asyncio.timeout would not save us: it is the per-read cost that matters here)."""
    if limit_s is None:
        await waiter
        return
    timer = asyncio.get_running_loop().call_later(limit_s, _expire, waiter)
    try:
        await waiter
    finally:
        timer.cancel()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class AsyncioStream(AsyncNetworkStream):
    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    @property
    def _transport(self) -> asyncio.Transport:
        transport = self._connection.transport
        if transport is None:  # connection_made always runs before create_connection returns
            raise httpcore.ReadError("not connected")
        return transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        connection = self._connection
        if not connection.buffer and not connection.eof:
            try:
                await connection.wait_readable(timeout)
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out reading the response") from None
        if connection.buffer:
            data = bytes(connection.buffer[:max_bytes])
            del connection.buffer[:max_bytes]
            if connection.reading_paused and len(connection.buffer) <= READ_HIGH_WATER // 4:
                connection.reading_paused = False
                self._transport.resume_reading()
            return data
        if connection.error is not None:
            raise httpcore.ReadError(_describe(connection.error))
        return b""  # the server closed the connection; h11 turns this into a protocol error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        connection = self._connection
        transport = self._transport
        if transport.is_closing() or connection.error is not None:
            raise httpcore.WriteError(_describe(connection.error or "connection closed"))
        transport.write(buffer)
        if connection.writing_paused:
            try:
                await connection.wait_drained(timeout)
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out writing the request") from None
            except OSError as exc:
                raise httpcore.WriteError(_describe(exc)) from None

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """Close without waiting: asyncio transports close in the background."""
        transport = self._connection.transport
        if transport is not None:
            transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(
                    self._transport, self._connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(_describe(exc)) from None
        if tls is None:  # only when the transport was already closing
            raise httpcore.ConnectError("connection closed before the TLS handshake")
        self._connection.transport = tls
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Idle and something arrived (or the server closed): the connection is unusable.
            return bool(self._connection.buffer) or self._connection.eof
        transport = self._connection.transport
        if info == "ssl_object" and transport is not None:  # how a caller sees TLS is on
            return transport.get_extra_info("ssl_object")
        return None


async def connect_tcp(
    host: str,
    port: int,
    timeout: float | None,  # noqa: ASYNC109
    egress: EgressPolicy,
) -> AsyncioStream:
    """A connection to host:port through the egress policy: the name is resolved once, and
    only an address the policy checked is connected to (EgressDenied if it refuses)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            addresses = await egress.vet(host, port)
            connection = await _connect_first(loop, addresses, port)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
    except OSError as exc:
        raise httpcore.ConnectError(_describe(exc)) from None
    return AsyncioStream(connection)


async def _connect_first(
    loop: asyncio.AbstractEventLoop, addresses: list[IPAddress], port: int
) -> _Connection:
    """The first of the checked addresses that accepts, in the resolver's order."""
    failure: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            _, connection = await loop.create_connection(_Connection, str(address), port)
        except OSError as exc:
            failure = exc
        else:
            return connection
    raise failure


def _describe(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
