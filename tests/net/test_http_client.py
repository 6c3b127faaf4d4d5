"""net/http_client.py's safety split and exchanges, against raw loopback servers on both loops.

Each server writes bytes by hand, so a test provokes exactly the wire behaviour it is about. The
contract pinned here: only a failure before the request's first byte was written is NotSent;
everything after is MaybeSent (the post may exist)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Iterator

import pytest

from herald.net.egress import EgressPolicy
from herald.net.http_client import HttpClient, InvalidUrl, MaybeSent, NotSent
from raw_http_support import LOOPS as EVENT_LOOPS
from raw_http_support import OK, Handler, answer_ok_forever, on_loop, raw_server, read_request, run

# The raw servers listen on loopback, which the default policy refuses.
LOOPBACK_OPEN = EgressPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))


@pytest.fixture(autouse=True, params=sorted(EVENT_LOOPS))
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    with on_loop(request.param) as kind:
        yield kind


def client(
    connections: int = 4,
    timeout: float = 5.0,
    *,
    pool_timeout: float | None = None,
    max_answer_bytes: int = 1 << 20,
) -> HttpClient:
    return HttpClient(
        connections,
        timeout,
        egress=LOOPBACK_OPEN,
        pool_timeout=pool_timeout,
        max_answer_bytes=max_answer_bytes,
    )


def post_raises(
    handler: Handler,
    expected: type[Exception],
    *,
    timeout: float = 5.0,
    content: bytes | AsyncIterator[bytes] = b"{}",
) -> Exception:
    raised: list[Exception] = []

    async def scenario() -> None:
        http = client(timeout=timeout)
        async with raw_server(handler) as (url, _):
            with pytest.raises(expected) as caught:
                await http.post(url, content=content)
            raised.append(caught.value)
        await http.aclose()

    run(scenario())
    return raised[0]


def test_requests_reuse_one_connection_and_send_json(event_loop_kind: str) -> None:
    heads: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_request(reader)
            heads.append(head)
            writer.write(OK)
            await writer.drain()

    async def scenario() -> None:
        assert type(asyncio.get_running_loop()).__module__.split(".")[0] == event_loop_kind
        http = client()
        async with raw_server(answer) as (url, accepted):
            for _ in range(3):
                response = await http.post(url + "/posts", json={"text": "hé"})
                assert (response.status_code, response.text, response.is_success) == (
                    200,
                    "ok",
                    True,
                )
            assert len(accepted) == 1  # keep-alive: one connection for three requests
        await http.aclose()

    run(scenario())
    assert b"content-type: application/json" in heads[0].lower()
    assert b"cookie" not in heads[0].lower()


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def one_request_then_close(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()  # then the handler returns and the server closes, as on idle

    async def scenario() -> None:
        http = client()
        async with raw_server(one_request_then_close) as (url, accepted):
            assert (await http.post(url, content=b"1")).status_code == 200
            await asyncio.sleep(0.1)  # the FIN arrives while the connection is idle
            assert (await http.post(url, content=b"2")).status_code == 200
            assert len(accepted) == 2
        await http.aclose()

    run(scenario())


def test_a_refused_connection_is_not_sent() -> None:
    async def scenario() -> None:
        async with raw_server(answer_ok_forever) as (url, _):
            pass  # closed: the port now refuses
        http = client()
        with pytest.raises(NotSent, match=r"ConnectError talking to 127\.0\.0\.1"):
            await http.post(url, content=b"x")
        await http.aclose()

    run(scenario())


def test_no_free_connection_in_time_is_not_sent_and_the_server_never_sees_it() -> None:
    release = asyncio.Event()
    seen: list[bytes] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        await release.wait()
        writer.write(OK)
        await writer.drain()

    async def scenario() -> None:
        http = client(connections=1, pool_timeout=0.3)
        async with raw_server(hold) as (url, accepted):
            first = asyncio.create_task(http.post(url, content=b"first"))
            await asyncio.sleep(0.1)
            with pytest.raises(NotSent, match="ConnectTimeout"):
                await http.post(url, content=b"second")
            release.set()
            assert (await first).text == "ok"
            assert len(accepted) == 1
            assert len(seen) == 1
        await http.aclose()

    run(scenario())


def test_failed_calls_give_their_connection_back() -> None:
    async def scenario() -> None:
        http = client(connections=1)
        async with raw_server(answer_ok_forever) as (url, _):
            pass
        for _ in range(3):
            with pytest.raises(NotSent):
                await http.post(url, content=b"x")
        async with raw_server(answer_ok_forever) as (url, _):
            for _ in range(3):
                assert (await http.post(url, content=b"x")).status_code == 200
        await http.aclose()

    run(scenario())


def test_a_close_without_an_answer_may_have_been_sent() -> None:
    async def read_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    error = post_raises(read_then_close, MaybeSent)
    assert error.kind == "ServerDisconnected"  # type: ignore[attr-defined]


def test_a_post_on_a_kept_connection_the_server_drops_is_not_sent_again() -> None:
    """aiohttp may retry idempotent methods on a dropped kept-alive connection; a POST, which
    can create a post, must come back as MaybeSent after one attempt."""
    requests: list[bytes] = []

    async def answer_once_then_drop(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        requests.append(await read_request(reader))
        writer.write(OK)
        await writer.drain()
        requests.append(await read_request(reader))  # read the second, then drop it

    async def scenario() -> None:
        http = client()
        async with raw_server(answer_once_then_drop) as (url, accepted):
            assert (await http.post(url, content=b"1")).status_code == 200
            with pytest.raises(MaybeSent):
                await http.post(url, content=b"2")
            assert len(accepted) == 1
        await http.aclose()

    run(scenario())
    assert len(requests) == 2


def test_a_reset_mid_answer_may_have_been_sent() -> None:
    async def reset_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        writer.transport.abort()  # RST, not FIN

    post_raises(reset_mid_body, MaybeSent)


def test_a_broken_answer_may_have_been_sent() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    post_raises(garbage, MaybeSent)


def test_a_silent_server_is_a_read_timeout_that_may_have_been_sent() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(10)

    error = post_raises(never_answer, MaybeSent, timeout=0.3)
    assert error.kind == "ReadTimeout"  # type: ignore[attr-defined]


def test_a_server_that_stops_reading_is_cut_off_and_may_have_been_sent() -> None:
    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    async def megabytes() -> AsyncIterator[bytes]:
        for _ in range(64):  # far more than both sockets' buffers hold
            yield b"x" * (1024 * 1024)

    post_raises(never_read, MaybeSent, timeout=0.3, content=megabytes())


def test_an_answer_over_the_cap_is_refused_and_one_under_it_read_whole() -> None:
    size = 300_000

    async def big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for offset in range(0, size, 65536):
                chunk = bytes([offset // 65536]) * min(65536, size - offset)
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            writer.write(b"0\r\n\r\n")

    async def scenario() -> None:
        async with raw_server(big) as (url, _):
            roomy, tight = client(max_answer_bytes=size), client(max_answer_bytes=size - 1)
            answer = await roomy.get(url)
            assert len(answer.content) == size
            assert answer.content[-1] == (size - 1) // 65536
            with pytest.raises(MaybeSent, match="AnswerTooLarge"):
                await tight.get(url)
            await roomy.aclose()
            await tight.aclose()

    run(scenario())


def test_interim_answers_are_skipped_and_no_body_answers_keep_the_connection() -> None:
    async def answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await reader.read()

    async def scenario() -> None:
        http = client()
        async with raw_server(answers) as (url, accepted):
            assert (await http.post(url, content=b"x")).status_code == 204
            assert (await http.post(url, content=b"y")).text == "ok"
            assert len(accepted) == 1
        await http.aclose()

    run(scenario())


def test_a_streamed_body_goes_out_whole_and_its_own_error_comes_back() -> None:
    received: list[bytes] = []

    async def read_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            assert b"transfer-encoding: chunked" in head.lower()
            body = b""
            while (size := int((await reader.readline()).strip(), 16)) > 0:
                body += await reader.readexactly(size)
                await reader.readline()
            received.append(body)
            writer.write(OK)
            await writer.drain()

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            yield part

    class UnreadableError(Exception):
        pass

    async def failing() -> AsyncIterator[bytes]:
        yield b"start"
        raise UnreadableError("the media store lost the file")

    async def scenario() -> None:
        http = client()
        async with raw_server(read_chunked) as (url, _):
            assert (await http.post(url, content=parts())).status_code == 200
            with pytest.raises(UnreadableError):
                await http.post(url, content=failing())
        await http.aclose()

    run(scenario())
    assert received == [b"one two three"]


@pytest.mark.parametrize("url", ["ftp://example.com/", "http:///nohost", "not a url", "/relative"])
def test_a_url_that_cannot_be_requested_is_invalid_and_nothing_is_sent(url: str) -> None:
    async def scenario() -> None:
        http = client()
        with pytest.raises(InvalidUrl):
            await http.get(url)
        await http.aclose()

    run(scenario())
