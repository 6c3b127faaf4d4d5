"""The egress policy where the engine's HTTP clients open connections: the address checked is
the address connected to, and a redirect hop to a refused address is refused."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest

from herald.engine.http import HttpClients, one_off_client
from herald.net.egress import EgressDenied, EgressPolicy, IPAddress
from raw_http_support import LOOPS, on_loop, read_request, run

ONLY_127_0_0_1 = (ipaddress.ip_network("127.0.0.1/32"),)
# One request per connection: the servers below close after answering.
OK = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"


@pytest.fixture(autouse=True, params=sorted(LOOPS))
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    with on_loop(request.param) as kind:
        yield kind


@asynccontextmanager
async def answering(
    host: str, answer: bytes, port: int = 0
) -> AsyncIterator[tuple[int, list[str]]]:
    """A server on host:port that reads one request and sends `answer`; yields its port and
    the hosts it was reached at."""
    reached: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reached.append(writer.get_extra_info("sockname")[0])
        try:
            await read_request(reader)
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, host, port)
    try:
        yield server.sockets[0].getsockname()[1], reached
    finally:
        server.close()


def redirect_to(url: str) -> bytes:
    head = f"HTTP/1.1 302 Found\r\nLocation: {url}\r\nConnection: close\r\nContent-Length: 0"
    return f"{head}\r\n\r\n".encode()


@pytest.mark.parametrize("httpx_transports", [False, True])
def test_each_redirect_hop_is_checked_again(httpx_transports: bool) -> None:
    async def scenario() -> None:
        policy = EgressPolicy(allow=ONLY_127_0_0_1)
        pools = HttpClients(4, 5.0, egress=policy, httpx_transports=httpx_transports)
        async with answering("127.0.0.2", OK) as (inner_port, inner):
            hop = redirect_to(f"http://127.0.0.2:{inner_port}/")
            async with answering("127.0.0.1", hop) as (port, outer):
                client = pools.next_client()
                not_followed = await client.get(f"http://127.0.0.1:{port}/")
                assert not_followed.status_code == 302  # the engine follows no redirect
                with pytest.raises(EgressDenied, match=r"127\.0\.0\.2"):
                    await client.get(f"http://127.0.0.1:{port}/", follow_redirects=True)
        await pools.aclose()
        assert outer == ["127.0.0.1", "127.0.0.1"]
        assert inner == []

    run(scenario())


def test_the_address_checked_is_the_address_connected_to() -> None:
    """A name whose second answer is a refused address (DNS rebinding) never reaches it: the
    name is resolved once, and the connection goes to the address that was checked."""
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        lookups.append(host)
        first = len(lookups) == 1
        return [ipaddress.ip_address("127.0.0.1" if first else "127.0.0.2")]

    async def scenario() -> None:
        policy = EgressPolicy(allow=ONLY_127_0_0_1, resolver=rebinding)
        async with (
            answering("127.0.0.1", OK) as (port, checked),
            answering("127.0.0.2", OK, port) as (_, rebound),  # the same port, another address
            one_off_client(policy, 5.0) as client,
        ):
            response = await client.get(f"http://rebinding.test:{port}/")
        assert response.status_code == 200
        assert lookups == ["rebinding.test"]
        assert checked == ["127.0.0.1"]
        assert rebound == []

    run(scenario())


def test_a_refused_address_is_never_connected_to() -> None:
    async def scenario() -> None:
        async with (
            answering("127.0.0.1", OK) as (port, reached),
            one_off_client(EgressPolicy(), 5.0) as client,
        ):
            for host in ("127.0.0.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]"):
                with pytest.raises(EgressDenied):
                    await client.get(f"http://{host}:{port}/")
        assert reached == []

    run(scenario())


def test_an_unresolvable_name_is_a_connect_error_so_certainly_not_sent() -> None:
    async def nowhere(host: str, port: int) -> list[IPAddress]:
        raise OSError(f"{host} does not resolve")

    async def scenario() -> None:
        async with one_off_client(EgressPolicy(resolver=nowhere), 5.0) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("http://nowhere.test/")

    run(scenario())
