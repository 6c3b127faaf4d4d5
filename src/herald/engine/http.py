"""The engine's HTTP clients: one httpx pool per slice of the concurrency.

httpcore's pool asks every connection whether it has expired each time a request starts or
finishes, and each answer costs a socket poll and a getpeername() through anyio's attribute
lookup: with 64 connections a pool that check took half of a client's CPU (profiled with py-spy
under bench/http_ceiling.py). Slices of SLICE connections keep each scan short; a target always
uses the same slice, so keep-alive connections are still reused. All slices share one TLS context,
since building one loads the CA bundle (milliseconds each)."""

from __future__ import annotations

import zlib

import httpx

SLICE = 16
# Below common servers' idle timeouts (uvicorn's is 5 s): reusing a connection the server is
# closing fails with a read error, and a failed send is in doubt until reconciled.
KEEPALIVE_EXPIRY = 2.0


class HttpClients:
    def __init__(self, concurrency: int, timeout_seconds: float) -> None:
        count = max(1, -(-concurrency // SLICE))
        per_client = -(-concurrency // count)
        tls = httpx.create_ssl_context()
        self._clients = [
            httpx.AsyncClient(
                verify=tls,
                timeout=httpx.Timeout(timeout_seconds, connect=5.0),
                limits=httpx.Limits(
                    max_connections=per_client,
                    max_keepalive_connections=per_client,
                    keepalive_expiry=KEEPALIVE_EXPIRY,
                ),
            )
            for _ in range(count)
        ]

    def for_target(self, target_id: str) -> httpx.AsyncClient:
        return self._clients[zlib.crc32(target_id.encode()) % len(self._clients)]

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
