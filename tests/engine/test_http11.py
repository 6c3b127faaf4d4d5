"""engine/http11.py's HTTP/1.1 framing and pooling, against raw loopback servers.

Each server answers with bytes written by hand, so every framing rule of RFC 9112 §6.3 the
transport relies on is exercised on a real socket: chunked, until-close, no body, 1xx. Pool
reuse is read off the server's count of accepted connections."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from herald.engine import http11
from herald.engine.http11 import Http11Transport
from herald.net.egress import EgressPolicy
from herald.platforms._http import NOT_SENT
from raw_http_support import LOOPS, Handler, on_loop, raw_server, read_request, run

# The raw servers listen on loopback, which the default policy refuses.
LOOPBACK_OPEN = EgressPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))


@pytest.fixture(autouse=True, params=sorted(LOOPS))
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    with on_loop(request.param) as kind:
        yield kind


def client(connections: int = 4, expiry: float = 5.0, timeout: float = 5.0) -> httpx.AsyncClient:
    transport = Http11Transport(httpx.create_ssl_context(), connections, expiry, LOOPBACK_OPEN)
    return httpx.AsyncClient(transport=transport, timeout=timeout)


def answers(*responses: bytes, close: bool = False) -> Handler:
    """A server handler that answers the n-th request on a connection with responses[n]."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for response in responses:
            await read_request(reader)
            writer.write(response)
            await writer.drain()
        if close:
            writer.close()
            return
        await reader.read()  # hold the connection until the client closes it

    return handler


def test_a_chunked_body_is_joined_and_the_connection_reused() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
    )

    async def scenario() -> None:
        async with raw_server(answers(chunked, chunked)) as (url, accepted), client() as http:
            for _ in range(2):
                response = await http.get(url)
                assert response.text == "hello world"
            assert len(accepted) == 1

    run(scenario())


def test_interim_1xx_answers_are_skipped() -> None:
    with_interim = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"
    )

    async def scenario() -> None:
        async with raw_server(answers(with_interim)) as (url, _), client() as http:
            response = await http.post(url, json={})
            assert (response.status_code, response.text) == (201, "{}")

    run(scenario())


@pytest.mark.parametrize(
    ("method", "head"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        ("DELETE", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n"),
    ],
)
def test_answers_that_have_no_body_read_none_and_keep_the_connection(
    method: str, head: bytes
) -> None:
    async def scenario() -> None:
        async with raw_server(answers(head, head)) as (url, accepted), client() as http:
            for _ in range(2):
                response = await http.request(method, url)
                assert response.content == b""
            assert len(accepted) == 1

    run(scenario())


@pytest.mark.parametrize(
    ("response", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "ok"),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", "all of it"),
    ],
    ids=["connection-close", "http-1.0", "body-until-close"],
)
def test_a_connection_the_server_will_close_is_not_reused(response: bytes, body: str) -> None:
    """Also the body without a length: it ends where the server closes the connection."""

    async def scenario() -> None:
        handler = answers(response, close=True)
        async with raw_server(handler) as (url, accepted), client() as http:
            assert (await http.get(url)).text == body
            assert (await http.get(url)).text == body
            assert len(accepted) == 2

    run(scenario())


def test_an_answer_sent_before_the_body_was_read_is_returned() -> None:
    """A platform that refuses an upload answers 413 and stops reading; the client sees the
    413 (a definite refusal), not a write failure that would leave the post in doubt."""

    async def refuse_upload(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo big!")
        await writer.drain()
        await asyncio.sleep(10)  # never reads the body: the client's writes stall

    async def scenario() -> None:
        async with raw_server(refuse_upload) as (url, _):
            async with client(timeout=1.0) as http:
                response = await http.post(url, content=b"x" * (32 * 1024 * 1024))
            assert (response.status_code, response.text) == (413, "too big!")

    run(scenario())


def test_a_streamed_body_goes_out_chunked() -> None:
    received: list[bytes] = []

    async def decode_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head.lower()
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readexactly(2)
        received.append(body)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"", b"two ", b"three"):
            yield part

    async def scenario() -> None:
        async with raw_server(decode_chunked) as (url, _), client() as http:
            assert (await http.post(url, content=parts())).status_code == 200

    run(scenario())
    assert received == [b"one two three"]


def test_no_free_connection_in_time_is_a_pool_timeout_which_means_not_sent() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(1.0)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async def scenario() -> None:
        async with raw_server(slow) as (url, _), client(connections=1) as http:
            first = asyncio.ensure_future(http.get(url))
            await asyncio.sleep(0.1)
            with pytest.raises(httpx.PoolTimeout) as raised:
                await http.get(url, timeout=httpx.Timeout(5.0, pool=0.1))
            assert isinstance(raised.value, NOT_SENT)
            assert (await first).status_code == 200

    run(scenario())


def test_failed_calls_give_their_connection_slot_back() -> None:
    """With one slot, a refused connect, a protocol error and a cancelled call in a row must
    each free it, or the next call would wait for the pool forever."""

    async def scenario() -> None:
        garbage = answers(b"NOT HTTP\r\n\r\n", close=True)
        stall = answers()  # reads nothing, answers nothing

        async def stalled_call(url: str) -> None:
            await http.get(url)

        async with (
            raw_server(garbage) as (garbage_url, _),
            raw_server(stall) as (stall_url, _),
            raw_server(answers(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) as (ok_url, _),
            client(connections=1) as http,
        ):
            with pytest.raises(httpx.ConnectError):
                await http.get("http://127.0.0.1:9/")  # discard port: refused
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get(garbage_url)
            call = asyncio.ensure_future(stalled_call(stall_url))
            await asyncio.sleep(0.1)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            response = await http.get(ok_url, timeout=httpx.Timeout(5.0, pool=1.0))
            assert response.text == "ok"

    run(scenario())


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (b"HTTP/1.1 OK\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 200 OK\r\n folded: header\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", "bytes of the body unsent"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
    ],
    ids=["status-line", "folded-header", "two-lengths", "short-body", "bad-chunk"],
)
def test_a_broken_answer_is_a_protocol_error_the_post_may_exist(
    response: bytes, message: str
) -> None:
    async def scenario() -> None:
        async with raw_server(answers(response, close=True)) as (url, _), client() as http:
            with pytest.raises(httpx.RemoteProtocolError, match=message) as raised:
                await http.post(url, json={})
            assert not isinstance(raised.value, NOT_SENT)

    run(scenario())


def test_a_body_left_unread_does_not_return_its_connection_to_the_pool() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def slow_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nfirst half")
        await writer.drain()
        await asyncio.sleep(0.3)  # the client has stopped reading by now
        writer.write(b"other half")
        await writer.drain()
        while True:  # a reused connection would read "other half" as the next answer
            await read_request(reader)
            writer.write(ok)
            await writer.drain()

    async def scenario() -> None:
        async with raw_server(slow_body) as (url, accepted), client() as http:
            async with http.stream("GET", url) as response:
                async for chunk in response.aiter_raw():
                    assert chunk == b"first half"
                    break
            assert (await http.get(url)).text == "first halfother half"  # a new connection
            assert len(accepted) == 2

    run(scenario())


def test_idle_connections_past_their_expiry_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http11, "SWEEP_EVERY_S", 0.0)
    closed_by_client: list[bool] = []
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def watch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(ok)
        await writer.drain()
        closed_by_client.append(await reader.read() == b"")

    async def scenario() -> None:
        async with (
            raw_server(watch) as (first, _),
            raw_server(answers(ok)) as (other, _),
            client(expiry=0.2) as http,
        ):
            await http.get(first)
            await asyncio.sleep(0.3)
            await http.get(other)  # any call sweeps every origin's expired connections
            await asyncio.sleep(0.1)
            assert closed_by_client == [True]

    run(scenario())


def test_headers_keep_their_order_and_repeats() -> None:
    response_bytes = (
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Rate: 5\r\nSet-Cookie: b=2\r\n"
        b"Content-Length: 0\r\n\r\n"
    )

    async def scenario() -> None:
        async with raw_server(answers(response_bytes)) as (url, _), client() as http:
            response = await http.get(url)
            assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
            assert response.headers["x-rate"] == "5"
            assert response.reason_phrase == "OK"
            assert response.http_version == "HTTP/1.1"

    run(scenario())


def test_the_request_goes_out_as_httpx_built_it() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        seen.append((head, await reader.readexactly(length)))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async def scenario() -> None:
        async with raw_server(record) as (url, _), client() as http:
            await http.post(url + "/v1/posts?x=1", json={"a": 1}, headers={"Idempotency-Key": "k"})

    run(scenario())
    head, body = seen[0]
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/posts?x=1 HTTP/1.1"
    assert b"Idempotency-Key: k" in lines
    assert b"Content-Type: application/json" in lines
    assert json.loads(body) == {"a": 1}
