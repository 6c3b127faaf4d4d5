"""The engine's HTTP clients (engine/http.py, http11.py, asyncio_backend.py) on raw servers.

What a connector concludes from an error decides whether a post may be sent twice, so each
failure is provoked on a real socket and the httpx error it surfaces as is pinned: only a
refused connection may read as "not sent"."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from herald.engine.asyncio_backend import READ_HIGH_WATER, AsyncioStream
from herald.engine.http import SLICE, HttpClients
from herald.net.egress import EgressPolicy
from raw_http_support import (
    LOOPS,
    OK,
    Handler,
    answer_ok_forever,
    on_loop,
    raw_server,
    read_request,
    run,
)

# The raw servers listen on loopback, which the default policy refuses.
LOOPBACK_OPEN = EgressPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))


@pytest.fixture(autouse=True, params=sorted(LOOPS))
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    with on_loop(request.param) as kind:
        yield kind


def clients(timeout: float = 5.0) -> HttpClients:
    return HttpClients(concurrency=4, timeout_seconds=timeout, egress=LOOPBACK_OPEN)


def post_raises(
    handler: Handler,
    expected: type[BaseException] | tuple[type[BaseException], ...],
    *,
    timeout: float = 5.0,
    content: bytes = b"x",
) -> BaseException:
    """POST `content` to a server running `handler`; the engine's client must raise `expected`,
    which is returned."""
    raised: list[BaseException] = []

    async def scenario() -> None:
        pools = clients(timeout)
        async with raw_server(handler) as (url, _):
            with pytest.raises(expected) as caught:
                await pools.next_client().post(url, content=content)
            raised.append(caught.value)
        await pools.aclose()

    run(scenario())
    return raised[0]


def test_requests_go_through_the_asyncio_backend_and_reuse_connections(
    event_loop_kind: str,
) -> None:
    async def scenario() -> None:
        assert type(asyncio.get_running_loop()).__module__.split(".")[0] == event_loop_kind
        pools = clients()
        async with raw_server(answer_ok_forever) as (url, accepted):
            client = pools.next_client()
            for _ in range(3):
                response = await client.post(url + "/posts", json={"text": "hi"})
                assert response.status_code == 200
                assert response.text == "ok"
                assert isinstance(response.extensions["network_stream"], AsyncioStream)
            assert len(accepted) == 1  # keep-alive: one connection for three requests
        await pools.aclose()

    run(scenario())


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def one_request_then_close(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        # Keep-alive was not refused in the response, so the client keeps the connection;
        # closing it now is what a server's idle timeout does.

    async def scenario() -> None:
        pools = clients()
        async with raw_server(one_request_then_close) as (url, accepted):
            client = pools.next_client()
            assert (await client.get(url)).status_code == 200
            await asyncio.sleep(0.1)  # the FIN arrives while the connection is idle
            assert (await client.get(url)).status_code == 200
            assert len(accepted) == 2
        await pools.aclose()

    run(scenario())


def test_refused_connection_is_a_connect_error() -> None:
    async def scenario() -> None:
        async with raw_server(answer_ok_forever) as (url, _):
            pass  # closed: the port now refuses
        pools = clients()
        with pytest.raises(httpx.ConnectError):
            await pools.next_client().post(url, content=b"x")
        await pools.aclose()

    run(scenario())


def test_close_without_an_answer_is_a_protocol_error_not_a_connect_error() -> None:
    """The request was written: the post may exist, so this must not look like 'not sent'."""

    async def read_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    post_raises(read_then_close, httpx.RemoteProtocolError)


def test_reset_mid_answer_is_a_read_error() -> None:
    async def reset_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        writer.transport.abort()  # RST, not FIN

    error = post_raises(reset_mid_body, (httpx.ReadError, httpx.RemoteProtocolError))
    assert not isinstance(error, httpx.ConnectError)


def test_a_silent_server_is_a_read_timeout() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(10)

    post_raises(never_answer, httpx.ReadTimeout, timeout=0.3)


def test_a_server_that_stops_reading_is_a_write_timeout() -> None:
    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    # Far more than both sockets' buffers hold.
    post_raises(never_read, httpx.WriteTimeout, timeout=0.3, content=b"x" * (64 * 1024 * 1024))


def test_a_large_answer_is_read_whole_through_flow_control() -> None:
    size = READ_HIGH_WATER * 8 + 123

    async def big_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        for offset in range(0, size, 65536):
            writer.write(bytes([offset // 65536 % 256]) * min(65536, size - offset))
            await writer.drain()

    async def scenario() -> None:
        pools = clients()
        async with raw_server(big_answer) as (url, _):
            response = await pools.next_client().get(url)
            assert len(response.content) == size
            assert response.content[-1] == (size - 1) // 65536 % 256
        await pools.aclose()

    run(scenario())


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for 127.0.0.1 and a client context that trusts only that certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "herald test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def test_https_goes_through_the_tls_handshake_and_verifies_the_certificate(
    tmp_path: Path,
) -> None:
    server_tls, trusting = self_signed(tmp_path)

    async def scenario() -> None:
        async with raw_server(answer_ok_forever, tls=server_tls) as (url, accepted):
            pools = HttpClients(
                concurrency=4, timeout_seconds=5.0, tls=trusting, egress=LOOPBACK_OPEN
            )
            client = pools.next_client()
            for _ in range(2):
                response = await client.get(url)
                assert response.text == "ok"
                stream = response.extensions["network_stream"]
                assert stream.get_extra_info("ssl_object") is not None
            assert len(accepted) == 1
            await pools.aclose()

            default = clients()  # the system CA bundle does not trust our certificate
            with pytest.raises(httpx.ConnectError):
                await default.next_client().get(url)
            await default.aclose()

    run(scenario())


def test_a_proxy_named_in_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hosts that reach the platforms only through a proxy keep working."""
    request_lines: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_request(reader)
        request_lines.append(head.split(b"\r\n")[0])
        writer.write(OK)
        await writer.drain()

    async def scenario() -> None:
        async with raw_server(proxy) as (proxy_url, _):
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
                monkeypatch.delenv(name, raising=False)
                monkeypatch.delenv(name.lower(), raising=False)
            monkeypatch.setenv("HTTP_PROXY", proxy_url)
            pools = clients()
            response = await pools.next_client().post("http://platform.invalid/posts")
            assert response.text == "ok"
            await pools.aclose()

    run(scenario())
    assert request_lines == [b"POST http://platform.invalid/posts HTTP/1.1"]


def test_behind_a_proxy_calls_take_httpx_transport_slices_in_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx's own pools walk every connection they hold on each request, so behind a proxy
    the engine keeps them small and evenly loaded: no slice queues while another idles."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")

    async def scenario() -> None:
        pools = HttpClients(concurrency=4 * SLICE, timeout_seconds=5.0, egress=LOOPBACK_OPEN)
        picked = [pools.next_client() for _ in range(8)]
        assert len({id(client) for client in picked}) == 4
        assert picked[:4] == picked[4:]
        await pools.aclose()

    run(scenario())


def test_without_a_proxy_one_client_carries_every_call() -> None:
    async def scenario() -> None:
        pools = HttpClients(concurrency=4 * SLICE, timeout_seconds=5.0, egress=LOOPBACK_OPEN)
        assert len({id(pools.next_client()) for _ in range(8)}) == 1
        await pools.aclose()

    run(scenario())


@pytest.mark.parametrize("proxied", [False, True], ids=["own-transport", "behind-a-proxy"])
def test_a_cookie_one_call_was_given_is_never_sent_on_another(
    proxied: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pools are shared by every account of every user: a Set-Cookie answered to one
    account's call (a platform's session or load-balancer cookie) must not ride along on the
    next account's call to the same host."""
    cookies_seen: list[bytes | None] = []

    async def sets_a_cookie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_request(reader)
            cookie = [line for line in head.split(b"\r\n") if line.lower().startswith(b"cookie:")]
            cookies_seen.append(cookie[0] if cookie else None)
            writer.write(
                b"HTTP/1.1 200 OK\r\nSet-Cookie: session=account-a; Path=/\r\n"
                b"Content-Length: 2\r\n\r\nok"
            )
            await writer.drain()

    async def scenario() -> None:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.lower(), raising=False)
        async with raw_server(sets_a_cookie) as (url, _):
            if proxied:  # the fallback pools are httpx's own; a proxy that is the server itself
                monkeypatch.setenv("HTTP_PROXY", url)
            pools = HttpClients(
                concurrency=1, timeout_seconds=5.0, egress=LOOPBACK_OPEN
            )  # one slice: same client
            first = await pools.next_client().post(url + "/posts", json={"account": "a"})
            assert first.headers["set-cookie"].startswith("session=account-a")
            await pools.next_client().post(url + "/posts", json={"account": "b"})
            await pools.aclose()

    run(scenario())
    assert cookies_seen == [None, None]
