"""What one platform call costs in the HTTP client alone, with no network: the engine's floor.

The engine calls platforms through httpx (DESIGN §4). Here httpx.AsyncClient sends to an
in-memory transport that answers at once, so nothing is left but httpx's own work per call:
building the request, its headers and URL, cookies, the response object and reading its JSON.
The second figure adds the sandbox connector on top (the same call bench/lateness.py makes).
Figures are CPU time of this process (time.process_time), on the engine's event loop.

What it bounds: in bench/lateness.py, for the share p of N posts to have started within a
second with C calls in flight, at least p*N - C calls must have finished in that second. One
process cannot finish more calls in a second than one second of CPU pays for, so
(p*N - C) * (cost per call) must stay under 1 s even if nothing else (database, engine,
sockets) cost anything. The script prints that product for the N, C and p asked.

Usage: python bench/client_cost.py [--calls 20000] [--groups 10000] [--concurrency 4096]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable

import httpx
from _harness import source_digest

from herald.cli._runtime import run_service_loop
from herald.domain.platform import Platform
from herald.platforms.base import PublishRequest
from herald.platforms.sandbox.connector import SandboxConnector

URL = "http://127.0.0.1:9/v1/posts"  # never dialled: the transport below answers in memory
ANSWER = b'{"id":"p1","url":"http://127.0.0.1:9/@bench/p1"}'
WARM_UP = 500


class InstantTransport(httpx.AsyncBaseTransport):
    """Answers every request at once with a created post, after reading its body."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return httpx.Response(200, headers={"Content-Type": "application/json"}, content=ANSWER)


def bare_call(client: httpx.AsyncClient) -> Callable[[int], Awaitable[None]]:
    """A POST with a JSON body and an idempotency key, and its JSON answer read."""

    async def call(index: int) -> None:
        body = {"account": "bench", "text": f"Post {index}", "ref": f"t{index}:0"}
        headers = {"Idempotency-Key": f"key-{index}"}
        response = await client.post(URL, json=body, headers=headers)
        response.json()

    return call


def connector_call(client: httpx.AsyncClient) -> Callable[[int], Awaitable[None]]:
    """The sandbox connector's publish, as the engine calls it."""
    connector = SandboxConnector()

    async def call(index: int) -> None:
        request = PublishRequest(
            target_id=f"t{index}",
            platform=Platform.SANDBOX,
            account_external_id="bench",
            text=f"Post {index}",
            options={"baseUrl": "http://127.0.0.1:9"},
        )
        await connector.publish(client, request, f"key-{index}")

    return call


async def cpu_per_call(call: Callable[[int], Awaitable[None]], calls: int) -> float:
    """Microseconds of CPU per call, with all `calls` in flight together as in a burst."""
    for index in range(WARM_UP):
        await call(index)
    began = time.process_time()
    await asyncio.gather(*(call(index) for index in range(calls)))
    return (time.process_time() - began) / calls * 1e6


async def measure(calls: int) -> tuple[float, float]:
    async with httpx.AsyncClient(transport=InstantTransport()) as client:
        bare = await cpu_per_call(bare_call(client), calls)
        connector = await cpu_per_call(connector_call(client), calls)
    return bare, connector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000, help="calls measured per figure")
    parser.add_argument("--groups", type=int, default=10_000, help="N posts due at once")
    parser.add_argument("--concurrency", type=int, default=4096, help="C calls in flight")
    parser.add_argument("--share", type=float, default=0.99, help="p, the percentile's share")
    args = parser.parse_args()
    print(f"calls {args.calls}; CPUs {os.cpu_count()}; herald sources {source_digest()}")
    bare, connector = run_service_loop(measure(args.calls))
    print(f"httpx alone, in-memory transport:        {bare:6.0f} us of CPU per call")
    print(f"sandbox connector over httpx, in memory: {connector:6.0f} us of CPU per call")
    must_finish = max(0, int(args.share * args.groups) - args.concurrency)
    print(
        f"for p{args.share * 100:g} start <= 1 s at N {args.groups}, C {args.concurrency}: "
        f"{must_finish} calls must finish within the first second; in one process their "
        f"client work alone is {must_finish * connector / 1e6:.2f} s of CPU "
        f"(httpx alone {must_finish * bare / 1e6:.2f} s)"
    )


if __name__ == "__main__":
    main()
