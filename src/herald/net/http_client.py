"""Herald's one outbound HTTP client: aiohttp, under the egress policy, with a two-way answer to
"could the platform have acted on this request?".

Every platform call (engine, connectors, connect checks, media uploads) goes through HttpClient.
It keeps aiohttp's connection pool and HTTP/1.1 framing, and adds what a scheduler needs:

- **The safety split.** A failure before any byte of the request was written (no connection
  could be opened or taken from the pool in time) raises NotSent: the platform cannot have
  created anything, so sending again is safe. Any other failure raises MaybeSent: the request
  may have arrived, and the caller must treat the outcome as unknown. Duplicates depend on this
  split, so only aiohttp's connect-phase errors map to NotSent (tests/net/test_http_client.py
  pins it on raw sockets).
- **Egress.** Names are resolved by a resolver that asks the policy, so the address connected to
  is the address checked; address literals (which aiohttp does not resolve) are checked before
  the request. Behind a proxy (HTTP(S)_PROXY from the environment, as usual) the proxy connects:
  the operator's proxy is trusted, and each request's host is checked before it leaves.
- **No cookies, no redirects.** The pool carries every account's calls; a cookie one account
  was given must not ride on another's call, and platform APIs authenticate with tokens. A
  platform API that redirects a POST is misconfigured, and each hop would be another address.
- **Bounded answers.** A body beyond `max_answer_bytes` is refused (MaybeSent): a platform's
  answer is small JSON, and a misbehaving server must not fill memory.
- **No secret in messages.** Errors name the host and what failed, never the URL: a Telegram
  Bot API URL carries the bot token.

aiohttp retries a request once on a kept-alive connection the server had closed, but only for
idempotent methods (RFC 9112 §9.3.1); every call that creates a post is a POST, which it never
re-sends."""

from __future__ import annotations

import contextlib
import functools
import json as jsonlib
import ssl
import urllib.request
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from herald.net.egress import EgressPolicy, ip_literal, origin_of
from herald.net.http_resolver import PolicyResolver

# Below common servers' idle timeouts (uvicorn's is 5 s): reusing a connection the server is
# closing fails after the request was written, and a failed send is in doubt until reconciled.
KEEPALIVE_EXPIRY = 2.0
CONNECT_TIMEOUT = 5.0
# Connections of a client made for a few calls, such as verifying credentials.
ONE_OFF_CONNECTIONS = 4
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# Hosts whose check before the request is settled (names, or literals the policy permits),
# remembered per client: reading a literal in every notation costs more than the call's own
# HTTP work. Bounded, since hosts come from tenants.
_CLEARED_HOSTS = 4096
USER_AGENT = "Herald"
_READ_CHUNK = 64 * 1024
# json.dumps builds a new encoder for any non-default argument (ensure_ascii here): 2-6 % of an
# engine's CPU per post in a publishing burst. One encoder with the same settings, built once.
_JSON = jsonlib.JSONEncoder(ensure_ascii=False)
Params = Mapping[str, str | int]
Body = bytes | AsyncIterator[bytes]


class HttpError(Exception):
    """The exchange failed; `kind` names how (ConnectError, ReadTimeout, ...). Never carries the
    URL, which may hold a credential."""

    def __init__(self, kind: str, host: str) -> None:
        super().__init__(f"{kind} talking to {host}")
        self.kind = kind
        self.host = host


class NotSent(HttpError):  # noqa: N818 (says what is known, like the taxonomy's names)
    """No byte of the request was written: the platform cannot have acted on it."""


class MaybeSent(HttpError):  # noqa: N818
    """The request may have reached the platform before the failure."""


class InvalidUrl(ValueError):  # noqa: N818
    """The URL cannot be requested (no host, not http or https); nothing was sent."""


@dataclass(frozen=True)
class HttpResponse:
    """A whole answer: status, headers (case-insensitive) and body."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes
    reason_phrase: str = ""

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not."""
        return jsonlib.loads(self.content)


@dataclass(frozen=True)
class StreamedAnswer:
    """An answer whose body the caller reads in chunks (files): never held whole. Reading it
    raises MaybeSent when the connection fails part way."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content_length: int | None
    chunks: AsyncIterator[bytes]


class HttpClient:
    """One pool of up to `connections` connections for every call of a process.

    `timeout_seconds` bounds each read, and by default waiting for a connection (from the pool
    or a new one: `pool_timeout`); the whole exchange is cut after twice that past the connect
    phase, so a server that stops reading a body cannot hold a call forever.
    `egress` decides which addresses may be connected to. `tls` replaces the default context
    (tests pass one that trusts their own certificate)."""

    def __init__(
        self,
        connections: int,
        timeout_seconds: float,
        *,
        egress: EgressPolicy,
        tls: ssl.SSLContext | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        pool_timeout: float | None = None,
    ) -> None:
        self._egress = egress
        self._max_answer = max_answer_bytes
        self._proxied = _proxy_configured()
        self._tls = tls or _default_tls()
        self._connections = connections
        connect_phase = timeout_seconds if pool_timeout is None else pool_timeout
        self._timeout = aiohttp.ClientTimeout(
            # The connect phase always ends first (NotSent); the total cuts what comes after.
            total=connect_phase + 2 * timeout_seconds,
            connect=connect_phase,  # a pooled connection, or a new one
            sock_connect=CONNECT_TIMEOUT,
            sock_read=timeout_seconds,
        )
        self._session: aiohttp.ClientSession | None = None
        self._cleared: set[tuple[str, int]] = set()

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: aiohttp binds a session to the running loop.
        if self._session is None:
            trusted = frozenset(_proxy_origins()) if self._proxied else frozenset()
            connector = aiohttp.TCPConnector(
                limit=self._connections,
                keepalive_timeout=KEEPALIVE_EXPIRY,
                ssl=self._tls,
                resolver=PolicyResolver(self._egress, trusted),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=self._timeout,
                trust_env=self._proxied,
                headers={"User-Agent": USER_AGENT},
                auto_decompress=True,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self, url: str, *, params: Params | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        return await self.request("GET", url, params=params, headers=headers)

    async def post(
        self,
        url: str,
        *,
        json: Any = None,
        content: Body | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        return await self.request("POST", url, json=json, content=content, headers=headers)

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        json: Any = None,
        content: Body | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """The answer, whatever its status. Raises NotSent, MaybeSent, InvalidUrl, EgressDenied,
        or whatever `content` raised while it was read (the body never completed)."""
        target = _parse(url)
        host = target.host or ""
        await self._vet_before(url, host, target.port or 80)
        body = _Body(content) if content is not None and not isinstance(content, bytes) else None
        data: Any = body.chunks() if body is not None else content
        if json is not None:
            data = _JSON.encode(json).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        try:
            return await self._exchange(method, target, params, data, headers)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise NotSent(_kind(exc), host) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            if body is not None and body.failure is not None:
                raise body.failure from None
            raise MaybeSent(_kind(exc), host) from None

    @asynccontextmanager
    async def stream(
        self, url: str, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[StreamedAnswer]:
        """GET `url` and hand over the answer with its body unread, for files too large to hold
        (media a tenant names). Same egress checks and errors as `request`; the connection is
        released when the block ends."""
        target = _parse(url)
        host = target.host or ""
        await self._vet_before(url, host, target.port or 80)
        try:
            answer = await self._open().request(
                "GET", target, headers=headers, allow_redirects=False
            )
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise NotSent(_kind(exc), host) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise MaybeSent(_kind(exc), host) from None
        try:
            yield StreamedAnswer(
                answer.status, answer.headers, answer.content_length, _chunks(answer, host)
            )
        finally:
            answer.close()  # an unread body must not go back to the pool

    async def _exchange(
        self,
        method: str,
        target: URL,
        params: Params | None,
        data: Any,
        headers: Mapping[str, str] | None,
    ) -> HttpResponse:
        async with self._open().request(
            method,
            target,
            params=params,
            data=data,
            headers=headers,
            allow_redirects=False,
        ) as answer:
            content = await self._read(answer, target.host or "")
            return HttpResponse(answer.status, answer.headers, content, answer.reason or "")

    async def _read(self, answer: aiohttp.ClientResponse, host: str) -> bytes:
        length = answer.content_length
        if length is not None:
            if length > self._max_answer:
                raise MaybeSent("AnswerTooLarge", host)
            return await answer.read()  # framed by its length: no more than announced
        chunks = bytearray()
        while chunk := await answer.content.read(_READ_CHUNK):
            chunks += chunk
            if len(chunks) > self._max_answer:
                raise MaybeSent("AnswerTooLarge", host)
        return bytes(chunks)

    async def _vet_before(self, url: str, host: str, port: int) -> None:
        """Checks aiohttp's resolver cannot make: address literals, which it connects to without
        resolving, and behind a proxy the request's own host, since the proxy connects."""
        if (host, port) in self._cleared:
            return
        # Checked as written: a refusal names the host the tenant gave, not yarl's rewrite of it.
        written = urlsplit(url).hostname or host
        if self._proxied:
            # A name this host cannot resolve is the proxy's to resolve, and its rules apply.
            with contextlib.suppress(OSError):
                await self._egress.vet(written, port)
            return
        if ip_literal(written) is not None:
            await self._egress.vet(written, port)  # raises EgressDenied, and nothing is kept
        if len(self._cleared) >= _CLEARED_HOSTS:
            self._cleared.clear()
        self._cleared.add((host, port))


@asynccontextmanager
async def one_off_client(egress: EgressPolicy, timeout_seconds: float) -> AsyncIterator[HttpClient]:
    """A client for a few calls outside the engine (verifying credentials when connecting an
    account), under the same egress policy; closed when the block ends."""
    client = HttpClient(ONE_OFF_CONNECTIONS, timeout_seconds, egress=egress)
    try:
        yield client
    finally:
        await client.aclose()


class _Body:
    """The caller's body stream, remembering an error it raised: aiohttp reports a failed body
    as its own connection error, but the caller needs its own (say, a media file that could not
    be read), which also means the request never completed."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source
        self.failure: Exception | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._source:
                yield chunk
        except Exception as exc:
            self.failure = exc
            raise


async def _chunks(answer: aiohttp.ClientResponse, host: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.content.iter_chunked(_READ_CHUNK):
            yield chunk
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise MaybeSent(_kind(exc), host) from None


def _parse(url: str) -> URL:
    try:
        target = URL(url)
    except (ValueError, TypeError):
        raise InvalidUrl("not a URL") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise InvalidUrl("only http:// and https:// URLs with a host can be requested")
    return target


def _kind(exc: BaseException) -> str:
    """How the exchange failed, in words that hold no URL."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "ConnectTimeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "ConnectError"
    if isinstance(exc, aiohttp.SocketTimeoutError | TimeoutError):
        return "ReadTimeout"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "ServerDisconnected"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return "ProtocolError"
    return type(exc).__name__


def _proxy_configured() -> bool:
    """True when the environment names a proxy, as aiohttp reads it (urllib's getproxies)."""
    proxies = urllib.request.getproxies()
    return any(scheme in proxies for scheme in ("http", "https", "all"))


def _proxy_origins() -> list[tuple[str, int]]:
    return [
        origin_of(url)
        for scheme, url in urllib.request.getproxies().items()
        if scheme in ("http", "https", "all") and url.startswith(("http://", "https://"))
    ]


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """One verifying context per process: building one loads the CA bundle (milliseconds), and
    a connect check makes a client of its own."""
    return ssl.create_default_context()
