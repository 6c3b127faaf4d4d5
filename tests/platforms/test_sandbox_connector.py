"""SandboxConnector against the sandbox simulator over real HTTP: every outcome in the taxonomy."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from herald.domain.platform import Platform
from herald.platforms._http import MAX_PLATFORM_MESSAGE
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    Published,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.sandbox.connector import SandboxConnector
from herald.sim.sandbox import SandboxConfig, create_sandbox_app
from sim_support import (
    HANG_S,
    SimControl,
    closed_port,
    platform_client,
    publish_request,
    publish_to_a_hang_up,
    reset_for_test,
    serve_in_thread,
)

TOKEN = "tok-8f3c1e-very-secret"
connector = SandboxConnector()


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with serve_in_thread(create_sandbox_app(SandboxConfig(hang_s=HANG_S))) as base_url:
        yield base_url


@pytest.fixture
def sim(sim_url: str) -> Iterator[SimControl]:
    yield from reset_for_test(SimControl(sim_url))


async def _status_reply(request: Request) -> Response:
    """Answers every call with the status in its path, as a misbehaving platform might."""
    kind = request.path_params["kind"]
    if kind == "garbled":
        return PlainTextResponse("<html>oops</html>", status_code=200)
    if kind == "leaky":  # a platform that echoes the credential back in its error
        bearer = request.headers.get("authorization", "")
        return JSONResponse({"message": f"bad token: {bearer}"}, status_code=401)
    if kind == "verbose":  # whatever some other service put in its error body
        dump = "config:\n  password: hunter2\n" + "x" * 10_000
        return JSONResponse({"message": dump}, status_code=422)
    return JSONResponse({"error": "x", "message": f"status {kind} says no"}, status_code=int(kind))


@pytest.fixture(scope="module")
def status_url() -> Iterator[str]:
    app = Starlette(routes=[Route("/{kind}/v1/posts", _status_reply, methods=["GET", "POST"])])
    with serve_in_thread(app) as base_url:
        yield base_url


def publish(request: PublishRequest, key: str = "key-1") -> Published:
    async def call() -> Published:
        async with platform_client() as http:
            return await connector.publish(http, request, key)

    return asyncio.run(call())


def lookup(request: PublishRequest, key: str = "key-1") -> Published | None:
    async def call() -> Published | None:
        async with platform_client() as http:
            return await connector.lookup(http, request, key)

    return asyncio.run(call())


def test_declares_the_sandbox_and_its_capabilities() -> None:
    assert connector.platform is Platform.SANDBOX
    assert connector.capabilities.idempotency_ttl is not None
    assert connector.capabilities.idempotency_ttl.total_seconds() == 3600
    assert connector.capabilities.supports_lookup
    assert connector.capabilities.threads


def test_publish_sends_the_post(sim: SimControl) -> None:
    published = publish(publish_request(sim.base_url, target_id="tg", part_index=0), "key-1")
    [post] = sim.posts()
    assert published == Published(post["id"], post["url"])
    assert post["url"].startswith(f"{sim.base_url}/p/")
    assert post["account"] == "acct-1"
    assert post["text"] == "Hello from Herald"
    assert (post["ref"], post["replyTo"], post["idempotencyKey"]) == ("tg:0", None, "key-1")
    assert post["media"] == [
        {
            "url": "https://cdn.example/a.png",
            "kind": "image",
            "contentType": "image/png",
            "alt": "A cat",
        }
    ]


def test_a_resend_with_the_same_key_is_replayed(sim: SimControl) -> None:
    request = publish_request(sim.base_url)
    assert publish(request, "k") == publish(request, "k")
    stats = sim.stats()
    assert (stats["posts"], stats["replays"], stats["duplicates"]) == (1, 1, 0)


def test_different_keys_create_two_posts(sim: SimControl) -> None:
    request = publish_request(sim.base_url)
    assert publish(request, "k1") != publish(request, "k2")
    assert (sim.stats()["posts"], sim.stats()["duplicates"]) == (2, 1)


def test_thread_parts_reply_to_the_previous_part(sim: SimControl) -> None:
    first = publish(publish_request(sim.base_url, part_count=2), "k-0")
    second = publish(
        publish_request(
            sim.base_url,
            part_index=1,
            part_count=2,
            reply_to_id=first.external_id,
            root_id=first.external_id,
        ),
        "k-1",
    )
    reply = sim.http.get(f"/v1/posts/{second.external_id}").json()
    assert (reply["replyTo"], reply["ref"]) == (first.external_id, "target-1:1")


def test_a_reply_to_an_unknown_post_is_rejected(sim: SimControl) -> None:
    with pytest.raises(RejectedError, match="replyTo") as caught:
        publish(publish_request(sim.base_url, reply_to_id="987654"))
    assert caught.value.http_status == 422


def test_text_over_500_graphemes_is_rejected(sim: SimControl) -> None:
    with pytest.raises(RejectedError, match="limit is 500"):
        publish(publish_request(sim.base_url, text="a" * 501))
    assert sim.stats()["posts"] == 0


def test_rate_limit_is_retryable_after_the_platforms_delay(sim: SimControl) -> None:
    sim.configure(retry_after_s=7)
    sim.script("rate_limit")
    with pytest.raises(RetryableError) as caught:
        publish(publish_request(sim.base_url))
    assert caught.value.rate_limited
    assert caught.value.retry_after == 7
    assert caught.value.http_status == 429
    assert sim.stats()["posts"] == 0


DAY = 86400.0  # the documented bound on a platform's delay


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "300000000000"}, DAY),
        ({"Retry-After": "9" * 400}, DAY),
        ({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, DAY),
        ({"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0.0),
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-5", "X-RateLimit-Reset": "12"}, 12.0),
        ({"X-RateLimit-Reset": "-5"}, None),
        ({"X-RateLimit-Reset": "nan"}, None),
        ({"X-RateLimit-Reset": "inf"}, DAY),
        ({"X-RateLimit-Reset": "1e300"}, DAY),
        ({"X-RateLimit-Reset": "9999-12-31T23:59:59-05:00"}, DAY),
        ({"X-RateLimit-Reset": "0001-01-01T00:00:00+05:00"}, 0.0),
    ],
)
def test_a_platforms_delay_is_bounded_or_ignored(
    sim: SimControl, headers: dict[str, str], expected: float | None
) -> None:
    sim.configure(rate_limit_headers=headers)
    sim.script("rate_limit")
    with pytest.raises(RetryableError) as caught:
        publish(publish_request(sim.base_url))
    assert caught.value.rate_limited
    assert caught.value.retry_after == expected


@pytest.mark.parametrize(
    ("fault", "error"), [("unavailable", RetryableError), ("timeout", OutcomeUnknownError)]
)
def test_faults_that_create_nothing(sim: SimControl, fault: str, error: type[Exception]) -> None:
    sim.script(fault)
    request = publish_request(sim.base_url)
    with pytest.raises(error) as caught:
        publish(request)
    assert not getattr(caught.value, "rate_limited", False)
    assert sim.stats()["posts"] == 0
    assert lookup(request) is None


@pytest.mark.parametrize("fault", ["error_after_create", "lost_response"])
def test_in_doubt_faults_are_outcome_unknown_and_lookup_finds_the_post(
    sim: SimControl, fault: str
) -> None:
    sim.script(fault)
    request = publish_request(sim.base_url)
    with pytest.raises(OutcomeUnknownError):
        publish(request, "key-1")
    [post] = sim.posts()
    found = lookup(request, "key-1")
    assert found == Published(post["id"], post["url"])
    assert lookup(request, "another-key") is None
    assert publish(request, "key-1") == found  # and a re-send within the key's life replays it


def test_rejected_fault_carries_the_platforms_message(sim: SimControl) -> None:
    sim.script("rejected")
    with pytest.raises(RejectedError, match="rejected by fault injection"):
        publish(publish_request(sim.base_url))


def test_a_wrong_token_is_auth_expired_and_never_echoed(sim: SimControl) -> None:
    sim.configure(token=TOKEN)
    for credentials in ({}, {"token": "tok-wrong-0000"}):
        request = publish_request(sim.base_url, credentials=credentials)
        with pytest.raises(AuthExpiredError) as caught:
            publish(request)
        assert caught.value.http_status == 401
        for secret in (TOKEN, "tok-wrong-0000"):
            assert secret not in str(caught.value)
            assert secret not in repr(caught.value)
    assert publish(publish_request(sim.base_url, credentials={"token": TOKEN})).external_id


def test_a_token_echoed_by_the_platform_is_redacted(status_url: str) -> None:
    request = publish_request(f"{status_url}/leaky", credentials={"token": TOKEN})
    with pytest.raises(AuthExpiredError) as caught:
        publish(request)
    assert TOKEN not in str(caught.value)
    assert "[redacted]" in caught.value.message


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, RejectedError),
        (404, RejectedError),
        (409, RejectedError),
        (422, RejectedError),
        (401, AuthExpiredError),
        (403, AuthExpiredError),
        (503, RetryableError),
        (500, OutcomeUnknownError),
        (502, OutcomeUnknownError),
        (504, OutcomeUnknownError),
        (302, OutcomeUnknownError),
    ],
)
def test_status_codes_map_onto_the_taxonomy(
    status_url: str, status: int, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        publish(publish_request(f"{status_url}/{status}"))
    assert type(caught.value) is error
    if error is RejectedError:
        assert f"status {status} says no" in str(caught.value)


def test_a_long_error_message_is_cut_to_one_short_line(status_url: str) -> None:
    with pytest.raises(RejectedError) as caught:
        publish(publish_request(f"{status_url}/verbose"))
    prefix = "The sandbox rejected the post: "
    message = caught.value.message
    assert message.startswith(prefix + "config: password: hunter2 xxx")
    assert len(message) == len(prefix) + MAX_PLATFORM_MESSAGE
    assert message.endswith("x…")
    assert "\n" not in message


def test_success_with_an_unreadable_body_is_outcome_unknown(status_url: str) -> None:
    with pytest.raises(OutcomeUnknownError):
        publish(publish_request(f"{status_url}/garbled"))


def test_a_refused_connection_is_retryable() -> None:
    request = publish_request(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(RetryableError) as caught:
        publish(request)
    assert not caught.value.rate_limited
    with pytest.raises(RetryableError):
        lookup(request)


def test_a_connection_dropped_after_sending_is_outcome_unknown() -> None:
    with pytest.raises(OutcomeUnknownError, match="ServerDisconnected"):
        publish_to_a_hang_up(connector, publish_request, "k")


def test_a_pool_timeout_is_retryable(sim: SimControl) -> None:
    sim.script("timeout")  # the first request holds the only connection

    async def scenario() -> tuple[BaseException | Published, BaseException | Published]:
        async with platform_client(connections=1, pool_timeout=0.2) as http:
            held = asyncio.create_task(connector.publish(http, publish_request(sim.base_url), "a"))
            await asyncio.sleep(0.1)
            queued = connector.publish(http, publish_request(sim.base_url), "b")
            second = await asyncio.gather(queued, return_exceptions=True)
            first = await asyncio.gather(held, return_exceptions=True)
            return first[0], second[0]

    first, second = asyncio.run(scenario())
    assert isinstance(first, OutcomeUnknownError)
    assert isinstance(second, RetryableError)
    assert "ConnectTimeout" in second.message
    assert sim.stats()["posts"] == 0


@pytest.mark.parametrize("options", [{}, {"baseUrl": ""}, {"baseUrl": "ftp://sandbox"}])
def test_a_missing_base_url_is_rejected(options: dict[str, str]) -> None:
    request = publish_request("unused", options=options)
    with pytest.raises(RejectedError, match="baseUrl"):
        publish(request)


def test_lookup_returns_the_post_of_that_key_only(sim: SimControl) -> None:
    request = publish_request(sim.base_url)
    assert lookup(request, "k2") is None
    publish(request, "k1")
    second = publish(request, "k2")
    publish(publish_request(sim.base_url, account_external_id="acct-2"), "k2")
    assert lookup(request, "k2") == second


def test_a_failed_lookup_is_retryable(sim: SimControl, status_url: str) -> None:
    sim.configure(token=TOKEN)
    with pytest.raises(RetryableError) as caught:
        lookup(publish_request(sim.base_url))
    assert caught.value.http_status == 401
    for kind in ("500", "garbled"):
        with pytest.raises(RetryableError):
            lookup(publish_request(f"{status_url}/{kind}"))
