"""net/http_client.py's policies on real sockets: egress (the address checked is the address
connected to), no redirects, no cookies, TLS verification, and proxies from the environment."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from herald.net.egress import EgressDenied, EgressPolicy, IPAddress
from herald.net.http_client import HttpClient, NotSent, one_off_client
from raw_http_support import LOOPS, OK, answer_ok_forever, on_loop, raw_server, read_request, run

ONLY_127_0_0_1 = (ipaddress.ip_network("127.0.0.1/32"),)
LOOPBACK_OPEN = EgressPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))
CLOSING_OK = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True, params=sorted(LOOPS))
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    with on_loop(request.param) as kind:
        yield kind


@pytest.fixture(autouse=True)
def no_proxy_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@asynccontextmanager
async def answering(
    host: str, answer: bytes, port: int = 0
) -> AsyncIterator[tuple[int, list[str]]]:
    """A server on host:port that reads one request and sends `answer`; yields its port and
    the addresses it was reached at."""
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


def test_a_redirect_is_answered_as_it_is_and_never_followed() -> None:
    async def scenario() -> None:
        async with answering("127.0.0.2", CLOSING_OK) as (inner_port, inner):
            hop = (
                f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{inner_port}/\r\n"
                "Connection: close\r\nContent-Length: 0\r\n\r\n"
            ).encode()
            async with (
                answering("127.0.0.1", hop) as (port, outer),
                one_off_client(EgressPolicy(allow=ONLY_127_0_0_1), 5.0) as client,
            ):
                answer = await client.post(f"http://127.0.0.1:{port}/", json={})
                assert answer.status_code == 302
        assert outer == ["127.0.0.1"]
        assert inner == []

    run(scenario())


def test_the_address_checked_is_the_address_connected_to() -> None:
    """A name whose second answer is a refused address (DNS rebinding) never reaches it: the
    name is resolved once, by the policy, and the connection goes to the address checked."""
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        lookups.append(host)
        first = len(lookups) == 1
        return [ipaddress.ip_address("127.0.0.1" if first else "127.0.0.2")]

    async def scenario() -> None:
        policy = EgressPolicy(allow=ONLY_127_0_0_1, resolver=rebinding)
        async with (
            answering("127.0.0.1", CLOSING_OK) as (port, checked),
            answering("127.0.0.2", CLOSING_OK, port) as (_, rebound),  # same port, other address
            one_off_client(policy, 5.0) as client,
        ):
            response = await client.get(f"http://rebinding.test:{port}/")
        assert response.status_code == 200
        assert lookups == ["rebinding.test"]
        assert checked == ["127.0.0.1"]
        assert rebound == []

    run(scenario())


def test_a_name_that_resolves_to_a_refused_address_is_never_connected_to() -> None:
    async def internal(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    async def scenario() -> None:
        async with (
            answering("127.0.0.1", CLOSING_OK) as (port, reached),
            one_off_client(EgressPolicy(resolver=internal), 5.0) as client,
        ):
            with pytest.raises(EgressDenied, match=r"internal\.test"):
                await client.post(f"http://internal.test:{port}/", json={})
        assert reached == []

    run(scenario())


def test_a_refused_address_literal_is_never_connected_to() -> None:
    async def scenario() -> None:
        async with (
            answering("127.0.0.1", CLOSING_OK) as (port, reached),
            one_off_client(EgressPolicy(), 5.0) as client,
        ):
            for host in ("127.0.0.1", "2130706433", "0x7f.1", "127.1", "[::ffff:127.0.0.1]"):
                with pytest.raises(EgressDenied):
                    await client.get(f"http://{host}:{port}/")
        assert reached == []

    run(scenario())


def test_an_unresolvable_name_is_certainly_not_sent() -> None:
    async def nowhere(host: str, port: int) -> list[IPAddress]:
        raise OSError(f"{host} does not resolve")

    async def scenario() -> None:
        async with one_off_client(EgressPolicy(resolver=nowhere), 5.0) as client:
            with pytest.raises(NotSent, match=r"nowhere\.test"):
                await client.get("http://nowhere.test/")

    run(scenario())


def test_a_cookie_one_call_was_given_is_never_sent_on_another() -> None:
    """The pool carries every account's calls: a Set-Cookie answered to one account's call
    must not ride along on the next account's call to the same host."""
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
        async with raw_server(sets_a_cookie) as (url, _):
            client = HttpClient(1, 5.0, egress=LOOPBACK_OPEN)
            first = await client.post(url + "/posts", json={"account": "a"})
            assert first.headers["set-cookie"].startswith("session=account-a")
            await client.post(url + "/posts", json={"account": "b"})
            await client.aclose()

    run(scenario())
    assert cookies_seen == [None, None]


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


def test_https_verifies_the_certificate_and_reuses_the_connection(tmp_path: Path) -> None:
    server_tls, trusting = self_signed(tmp_path)

    async def scenario() -> None:
        async with raw_server(answer_ok_forever, tls=server_tls) as (url, accepted):
            client = HttpClient(4, 5.0, tls=trusting, egress=LOOPBACK_OPEN)
            for _ in range(2):
                assert (await client.get(url)).text == "ok"
            assert len(accepted) == 1
            await client.aclose()

            default = HttpClient(4, 5.0, egress=LOOPBACK_OPEN)  # the system's CAs: untrusted
            with pytest.raises(NotSent):
                await default.get(url)
            await default.aclose()

    run(scenario())


def test_a_proxy_named_in_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hosts that reach the platforms only through a proxy keep working; the operator's proxy
    is reached even on an address the policy would refuse to a tenant."""
    request_lines: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_request(reader)
        request_lines.append(head.split(b"\r\n")[0])
        writer.write(OK)
        await writer.drain()

    async def unresolvable(host: str, port: int) -> list[IPAddress]:
        if host == "127.0.0.1":
            return [ipaddress.ip_address(host)]
        raise OSError(f"{host} does not resolve here")

    async def scenario() -> None:
        async with raw_server(proxy) as (proxy_url, _):
            monkeypatch.setenv("HTTP_PROXY", proxy_url)
            client = HttpClient(4, 5.0, egress=EgressPolicy(resolver=unresolvable))
            response = await client.post("http://platform.invalid/posts", json={})
            assert response.text == "ok"
            with pytest.raises(EgressDenied):  # the request's own host is still checked
                await client.post("http://10.0.0.1/posts", json={})
            await client.aclose()

    run(scenario())
    assert request_lines == [b"POST http://platform.invalid/posts HTTP/1.1"]
