"""An httpcore network backend on plain asyncio transports, for the engine's HTTP pools.

httpcore's default backend goes through anyio: each read and write opens a cancel scope and a
deadline, each lock asks sniffio which event loop runs, and the pool's "has this idle connection
expired?" check, made for every pooled connection on every request, polls the socket with a
system call and rebuilds anyio's attribute table (getpeername included). Replacing it took a
client from 1.6 to 0.96 ms of CPU per request (py-spy, bench/http_ceiling.py). Here a
connection is an asyncio.Protocol with its own buffer: reads wait on one future with one timer,
and "readable while idle" is a look at that buffer, with no system call.

The methods take `timeout` parameters because httpcore's backend interface does (hence the
ASYNC109 exemptions). Errors map as httpcore's own backends map them, which matters for safety:
only a failure to *connect* is a ConnectError (the request was certainly not sent); a failure
once connected is a ReadError or WriteError, which the connectors treat as "the post may
exist"."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any, cast

import httpcore
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

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
    ) -> AsyncNetworkStream:
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
        transport = self._connection.transport
        if info == "is_readable":
            # Idle and something arrived (or the server closed): the connection is unusable.
            return bool(self._connection.buffer) or self._connection.eof
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


class AsyncioBackend(AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_connection(
                    _Connection,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(_describe(exc)) from None
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            if sock is not None:
                sock.setsockopt(*option)
        return AsyncioStream(connection)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_unix_connection(_Connection, path)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from None
        except OSError as exc:
            raise httpcore.ConnectError(_describe(exc)) from None
        return AsyncioStream(connection)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _describe(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
