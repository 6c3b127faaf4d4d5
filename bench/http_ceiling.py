"""The ceiling under bench/lateness.py: the same burst with no database and no engine.

N requests due at one instant go from K client processes, each with C/K concurrency over the
engine's HTTP client (net/http_client.py, aiohttp) and the sandbox connector's request
building, to the sandbox simulator (`herald sim`, latency L) in its own process. What remains
is the cost of the HTTP exchange itself on both sides, which every publishing engine written in
Python pays on this machine. Its start lateness and throughput bound what bench/lateness.py can
reach here.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from _harness import (
    Children,
    CpuMeter,
    Simulator,
    child_env,
    new_secret_key,
    percentile,
    raise_on_sigterm,
    source_digest,
    workspace,
)
from _raw_http import RawClient, capture_requests

from herald.cli._runtime import run_service_loop
from herald.domain.platform import Platform
from herald.net.egress import EgressPolicy
from herald.net.http_client import HttpClient
from herald.platforms.base import PublishRequest
from herald.platforms.sandbox.connector import SandboxConnector

LEAD_S = 3.0  # T0 is this long after the clients are told to start: time to import and connect


@dataclass(frozen=True)
class Options:
    requests: int
    latency_ms: float
    concurrency: int
    clients: int
    raw_client: bool
    summary: Path | None  # where to write the figures as JSON (bench/floor_ratios.py reads it)


def parse_options() -> Options:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000, help="N requests due at T0")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="simulated platform L")
    parser.add_argument("--concurrency", type=int, default=4096, help="C, across all clients")
    parser.add_argument("--clients", type=int, default=4, help="K client processes")
    parser.add_argument(
        "--raw-client",
        action="store_true",
        help="no HTTP library: the connector's requests serialized before T0 and written to "
        "sockets (bench/_raw_http.py), for the floor the simulator alone allows",
    )
    parser.add_argument("--summary", type=Path, help="also write the figures here, as JSON")
    # Internal: one client process (started by the parent run).
    parser.add_argument("--client", nargs=4, metavar=("URL", "FIRST", "COUNT", "T0"))
    args = parser.parse_args()
    if args.client:
        url, first, count, t0 = args.client
        per = args.concurrency // args.clients
        # The engine's own loop: uvloop where installed (see herald.cli._runtime).
        mode = "raw" if args.raw_client else "engine"
        run_service_loop(client(url, int(first), int(count), per, float(t0), mode))
        sys.exit(0)
    return Options(
        args.requests,
        args.latency_ms,
        args.concurrency,
        args.clients,
        args.raw_client,
        args.summary,
    )


def publish_request(url: str, index: int) -> PublishRequest:
    return PublishRequest(
        target_id=f"t{index}",
        platform=Platform.SANDBOX,
        account_external_id="bench",
        text=f"Post {index}",
        options={"baseUrl": url},
    )


async def client(url: str, first: int, count: int, concurrency: int, t0: float, mode: str) -> None:
    """Send `count` posts from T0 with `concurrency` in flight; print each one's start and
    finish (epoch seconds) as JSON on stdout."""
    indexes = range(first, first + count)
    # The simulator listens on loopback, which the default policy refuses.
    egress = EgressPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))
    http = HttpClient(concurrency, timeout_seconds=60, egress=egress)
    if mode == "raw":
        send = await raw_sender(url, indexes, http)
    else:
        send = connector_sender(url, http)
    slots = asyncio.Semaphore(concurrency)
    starts: list[float] = []
    ends: list[float] = []

    async def one(index: int) -> None:
        async with slots:
            starts.append(time.time())
            await send(index)
            ends.append(time.time())

    await asyncio.sleep(max(0.0, t0 - time.time()))
    cpu_began = time.process_time()
    await asyncio.gather(*(one(i) for i in indexes))
    cpu = time.process_time() - cpu_began
    await http.aclose()
    print(json.dumps({"starts": starts, "ends": ends, "cpu": cpu}))


def connector_sender(url: str, http: HttpClient) -> Callable[[int], Awaitable[None]]:
    """A call as the engine makes it: the sandbox connector over the engine's client."""
    connector = SandboxConnector()

    async def send(index: int) -> None:
        request = publish_request(url, index)
        await connector.publish(http, request, f"key-{index}")

    return send


async def raw_sender(
    url: str, indexes: range, http: HttpClient
) -> Callable[[int], Awaitable[None]]:
    """The connector's exact requests, captured before T0, written raw."""
    connector = SandboxConnector()

    async def publish(capture_url: str, index: int) -> None:
        await connector.publish(http, publish_request(capture_url, index), f"key-{index}")

    captured = await capture_requests(url, indexes, publish)
    host, _, port = url.removeprefix("http://").partition(":")
    raw = RawClient(host, int(port or 80))

    async def send(index: int) -> None:
        status = await raw.exchange(captured.pop(index))
        if status != 200:
            raise RuntimeError(f"the simulator answered {status}")

    return send


def spread(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50):.3f} s, p99 {percentile(values, 99):.3f} s, "
        f"max {max(values):.3f} s (n={len(values)})"
    )


def start_clients(options: Options, url: str, t0: float) -> list[subprocess.Popen[bytes]]:
    share = -(-options.requests // options.clients)
    return [
        subprocess.Popen(  # noqa: S603 (this script, fixed arguments)
            [
                sys.executable,
                __file__,
                "--concurrency",
                str(options.concurrency),
                "--clients",
                str(options.clients),
                *(["--raw-client"] if options.raw_client else []),
                "--client",
                url,
                str(k * share),
                str(min(share, options.requests - k * share)),
                str(t0),
            ],
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        for k in range(options.clients)
    ]


async def run(options: Options, workdir: Path) -> None:
    with Children(workdir, child_env(new_secret_key())) as children:
        sim = Simulator(children)
        await sim.ready()
        await sim.call("POST", "/_sim/config", {"latency_ms": options.latency_ms})
        t0 = time.time() + LEAD_S
        processes = start_clients(options, sim.url, t0)
        meter = CpuMeter(children)
        await asyncio.sleep(max(0.0, t0 - time.time()))
        meter.start()
        outputs = [await asyncio.to_thread(p.communicate) for p in processes]
        cpu_lines = meter.report()
        stats = await sim.call("GET", "/_sim/stats")
    starts: list[float] = []
    ends: list[float] = []
    client_cpu = 0.0
    for stdout, _ in outputs:
        result = json.loads(stdout)
        starts += [s - t0 for s in result["starts"]]
        ends += [e - t0 for e in result["ends"]]
        client_cpu += result["cpu"]
    print(f"start lateness (call begins - T0):  {spread(starts)}")
    print(f"finish lateness (answer read - T0): {spread(ends)}")
    throughput = len(ends) / max(ends)
    ideal = options.concurrency / (options.latency_ms / 1000)
    print(
        f"throughput: {throughput:,.0f} requests/s (T0 to last answer); C/L = {ideal:,.0f}/s; "
        f"fraction {throughput / ideal:.4f}"
    )
    print(f"simulator: posts {stats['posts']}")
    print(f"client CPU: {client_cpu / len(ends) * 1e6:.0f} us per request, in all client processes")
    # The clients are not the harness's children: their CPU shows under "other processes".
    print("\n".join(cpu_lines))
    if options.summary is not None:
        summary = {
            "start_p50_s": percentile(starts, 50),
            "start_p99_s": percentile(starts, 99),
            "finish_p99_s": percentile(ends, 99),
            "throughput_per_s": throughput,
            "client_cpu_ms_per_request": 1000 * client_cpu / len(ends),
            "answered": len(ends),
        }
        options.summary.write_text(json.dumps(summary))


def main() -> None:
    raise_on_sigterm()
    options = parse_options()
    print(
        f"N {options.requests}; L {options.latency_ms:.0f} ms; C {options.concurrency} "
        f"({options.clients} x {options.concurrency // options.clients}); "
        f"CPUs {os.cpu_count()}; herald sources {source_digest()}"
        + ("; raw client (no HTTP library)" if options.raw_client else "")
    )
    with workspace() as workdir:
        asyncio.run(run(options, workdir))


if __name__ == "__main__":
    main()
