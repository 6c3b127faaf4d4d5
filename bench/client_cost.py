"""What one platform call costs the engine's HTTP client, against a server that answers at once.

The engine calls platforms through net/http_client.py (aiohttp). Here it posts to a loopback
server in another process that answers every request at once, keep-alive, so what this process
spends is the client's own work per call: building the request, writing it, parsing the answer
and reading its JSON. The second figure adds the sandbox connector on top (the call
bench/lateness.py makes); the third is bench/_raw_http.py's client, which does no HTTP work at
all beyond a write and a read: the floor of any client in Python on this machine. Figures are
CPU time of this process (time.process_time) on the engine's event loop, with C calls in flight.

What it bounds: in bench/lateness.py, for the share p of N posts to have started within a
second with C calls in flight, at least p*N - C calls must have finished in that second. One
process cannot finish more calls in a second than one second of CPU pays for, so
(p*N - C) * (cost per call) must stay under 1 s even if nothing else (database, engine,
sockets) cost anything. The script prints that product for the N, C and p asked.

Usage: python bench/client_cost.py [--calls 20000] [--groups 10000] [--concurrency 256]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from _harness import source_digest
from _raw_http import HEAD_END
from http_ceiling import publish_request, raw_sender

from herald.cli._runtime import run_service_loop
from herald.net.egress import EgressPolicy
from herald.net.http_client import HttpClient
from herald.platforms.sandbox.connector import SandboxConnector

ANSWER = b'{"id":"p1","url":"http://127.0.0.1:9/@bench/p1"}'
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(ANSWER),
    ANSWER,
)
WARM_UP = 500
LOOPBACK_OPEN = EgressPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))


async def serve() -> None:
    """The answering server (in its own process): every request answered at once."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(HEAD_END)
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                writer.write(RESPONSE)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def bare_call(client: HttpClient, url: str) -> Callable[[int], Awaitable[None]]:
    """A POST with a JSON body and an idempotency key, and its JSON answer read."""

    async def call(index: int) -> None:
        body = {"account": "bench", "text": f"Post {index}", "ref": f"t{index}:0"}
        headers = {"Idempotency-Key": f"key-{index}"}
        response = await client.post(f"{url}/v1/posts", json=body, headers=headers)
        response.json()

    return call


def connector_call(client: HttpClient, url: str) -> Callable[[int], Awaitable[None]]:
    """The sandbox connector's publish, as the engine calls it."""
    connector = SandboxConnector()

    async def call(index: int) -> None:
        await connector.publish(client, publish_request(url, index), f"key-{index}")

    return call


async def cpu_per_call(call: Callable[[int], Awaitable[None]], calls: int, c: int) -> float:
    """Microseconds of CPU per call, with `c` calls in flight as in a burst."""
    for index in range(calls, calls + WARM_UP):
        await call(index)
    slots = asyncio.Semaphore(c)

    async def one(index: int) -> None:
        async with slots:
            await call(index)

    began = time.process_time()
    await asyncio.gather(*(one(index) for index in range(calls)))
    return (time.process_time() - began) / calls * 1e6


async def measure(url: str, calls: int, c: int) -> tuple[float, float, float]:
    client = HttpClient(c, 60.0, egress=LOOPBACK_OPEN)
    try:
        bare = await cpu_per_call(bare_call(client, url), calls, c)
        connector = await cpu_per_call(connector_call(client, url), calls, c)
        raw_send = await raw_sender(url, range(calls + WARM_UP), client)
        raw = await cpu_per_call(raw_send, calls, c)
    finally:
        await client.aclose()
    return bare, connector, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000, help="calls measured per figure")
    parser.add_argument("--groups", type=int, default=10_000, help="N posts due at once")
    parser.add_argument("--concurrency", type=int, default=256, help="C calls in flight")
    parser.add_argument("--share", type=float, default=0.99, help="p, the percentile's share")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_service_loop(serve())
        return
    server = subprocess.Popen(  # noqa: S603 (this script)
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        print(
            f"calls {args.calls}; C {args.concurrency}; CPUs {os.cpu_count()}; "
            f"herald sources {source_digest()}"
        )
        bare, connector, raw = run_service_loop(measure(url, args.calls, args.concurrency))
    finally:
        server.terminate()
        server.wait()
    print(f"HttpClient alone:               {bare:6.0f} us of client CPU per call")
    print(f"sandbox connector + HttpClient: {connector:6.0f} us of client CPU per call")
    print(f"raw client (the floor):         {raw:6.0f} us of client CPU per call")
    must_finish = max(0, int(args.share * args.groups) - args.concurrency)
    print(
        f"for p{args.share * 100:g} start <= 1 s at N {args.groups}, C {args.concurrency}: "
        f"{must_finish} calls must finish within the first second; in one process their "
        f"client work alone is {must_finish * connector / 1e6:.2f} s of CPU "
        f"(HttpClient alone {must_finish * bare / 1e6:.2f} s)"
    )


if __name__ == "__main__":
    main()
