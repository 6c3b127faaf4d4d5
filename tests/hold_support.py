"""A loopback endpoint that speaks the sandbox's create-post protocol but holds every answer until
the test releases it: a tenant's platform that has stopped answering, on a port of its own."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class HoldingEndpoint:
    """`POST /v1/posts` requests are read and held; after `release()` each gets a sandbox 200.
    The first `free` requests are answered at once (a host that answered, then stopped)."""

    def __init__(self, free: int = 0) -> None:
        self.free = free
        self.url = ""
        self.held = 0  # requests read and not answered yet
        self.answered = 0
        self._loop = asyncio.new_event_loop()
        self._release = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def release(self) -> None:
        self._loop.call_soon_threadsafe(self._release.set)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = json.loads(await reader.readexactly(length)) if length else {}
                if self.answered >= self.free:
                    self.held += 1
                    await self._release.wait()
                    self.held -= 1
                self.answered += 1
                writer.write(_answer(self.answered, body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client hung up
        finally:
            self._writers.discard(writer)
            writer.close()

    def _run(self) -> None:
        self._loop.run_forever()

    async def _stop(self) -> None:
        """Answer what is held, hang up on every client, and let each handler end by itself."""
        self._release.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()


def _answer(number: int, request: dict[str, object]) -> bytes:
    post = {
        "id": str(number),
        "url": f"http://127.0.0.1/p/held{number}",
        "account": request.get("account"),
        "text": request.get("text"),
        "ref": request.get("ref"),
    }
    body = json.dumps(post).encode()
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


@contextmanager
def holding_endpoint(free: int = 0) -> Iterator[HoldingEndpoint]:
    endpoint = HoldingEndpoint(free)
    thread = threading.Thread(target=endpoint._run, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(endpoint._start(), endpoint._loop).result(timeout=10)
    try:
        yield endpoint
    finally:
        asyncio.run_coroutine_threadsafe(endpoint._stop(), endpoint._loop).result(timeout=10)
        endpoint._loop.call_soon_threadsafe(endpoint._loop.stop)
        thread.join(timeout=10)
        endpoint._loop.close()
