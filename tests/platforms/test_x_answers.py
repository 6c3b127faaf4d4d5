"""How XConnector classes each answer X can give, and what it sends, against a scripted server
that answers every call the way its path's first segment says (the simulator only gives
well-behaved answers, and is tested in test_x_connector.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email.parser import BytesParser
from email.policy import default
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    AuthExpiredError,
    MediaItem,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishError,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.x import XConnector
from herald.platforms.x.media import UploadRules
from sim_support import platform_client, publish_to_a_hang_up, serve_in_thread

TOKEN = "xtok-5be0c2-very-secret"
connector = XConnector(UploadRules(chunk_bytes=1000, min_poll_s=0.01, max_poll_s=0.05))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10  # 2,568 bytes: three 1,000-byte chunks
SEEN: list[tuple[str, str, Any]] = []  # (method, path, body) of every call, for shape checks


def _problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    body = {"title": "Forbidden", "detail": detail, "type": "about:blank", "status": status}
    return JSONResponse({**body, **extra}, status_code=status)


TWEET_ANSWERS: dict[str, Callable[[], Response]] = {
    "duplicate": lambda: _problem(
        403, "You are not allowed to create a Tweet with duplicate content."
    ),
    "reply-refused": lambda: _problem(
        403,
        "Reply to this conversation is not allowed because you have not been mentioned or "
        "otherwise engaged by the author of the post you are replying to.",
    ),
    "target-gone": lambda: JSONResponse(
        {
            "errors": [
                {
                    "parameters": {"reply.in_reply_to_tweet_id": ["1999"]},
                    "message": "The tweet you are replying to does not exist.",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.x.com/2/problems/invalid-request",
        },
        status_code=400,
    ),
    "scope": lambda: JSONResponse(
        {
            "title": "Unsupported Authentication",
            "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden here.",
            "type": "https://api.x.com/2/problems/unsupported-authentication",
            "status": 403,
        },
        status_code=403,
    ),
    "rate": lambda: JSONResponse(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        status_code=429,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(time.time()) + 60)},
    ),
    "daily-cap": lambda: JSONResponse(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        status_code=429,
        headers={
            "x-rate-limit-reset": str(int(time.time()) + 60),
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(int(time.time()) + 7200),
        },
    ),
    "garbled": lambda: PlainTextResponse("<html>oops</html>", status_code=201),
    "redirect": lambda: Response(status_code=301, headers={"Location": "https://x.example/"}),
}


async def _tweets(request: Request) -> Response:
    kind = request.path_params["kind"]
    body = await request.json()
    SEEN.append(("POST", "/2/tweets", body))
    if kind in ("ok", "processing", "duplicate-found"):
        if kind == "duplicate-found":
            return TWEET_ANSWERS["duplicate"]()
        return JSONResponse({"data": {"id": "1001", "text": body["text"]}}, status_code=201)
    if kind == "leaky":  # a proxy that echoes the credential back
        bearer = request.headers.get("authorization", "")
        return _problem(401, f"bad token: {bearer}")
    if kind in TWEET_ANSWERS:
        return TWEET_ANSWERS[kind]()
    return _problem(int(kind), f"status {kind} says no")


async def _timeline(request: Request) -> Response:
    kind = request.path_params["kind"]
    SEEN.append(("GET", request.url.path, dict(request.query_params)))
    if kind != "duplicate-found":
        return _problem(503, "timeline unavailable")
    tweet = {
        "id": "777",
        "text": "Fish &amp; chips https://t.co/abc https://t.co/media1",
        "created_at": "2030-01-01T00:00:00.000Z",
        "referenced_tweets": [{"type": "replied_to", "id": "555"}],
        "entities": {
            "urls": [
                {"start": 17, "end": 33, "url": "https://t.co/abc"},
                {"start": 34, "end": 52, "url": "https://t.co/media1", "media_key": "3_9"},
            ]
        },
        "attachments": {"media_keys": ["3_9"]},
    }
    other = {**tweet, "id": "778", "referenced_tweets": []}  # same words, not a reply: not it
    return JSONResponse({"data": [other, tweet], "meta": {"result_count": 2}})


async def _me(request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind == "ok":
        user = {"id": "42", "username": "ada", "name": "Ada L", "profile_image_url": "https://p/a"}
        return JSONResponse({"data": user})
    if kind == "no-user":
        return JSONResponse({"errors": [{"detail": "none"}]})
    if kind in TWEET_ANSWERS:
        return TWEET_ANSWERS[kind]()
    return _problem(int(kind), f"status {kind} says no")


async def _initialize(request: Request) -> Response:
    kind = request.path_params["kind"]
    SEEN.append(("POST", "initialize", await request.json()))
    if kind.startswith("media-"):
        return _problem(int(kind.removeprefix("media-")), "media says no")
    return JSONResponse({"data": {"id": "m1", "media_key": "3_m1", "expires_after_secs": 86400}})


async def _append(request: Request) -> Response:
    # The standard library's MIME parser reads multipart/form-data well enough for a test.
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    form = BytesParser(policy=default).parsebytes(head + await request.body())
    fields = {
        part.get_param("name", header="content-disposition"): part for part in form.iter_parts()
    }
    media = fields["media"].get_payload(decode=True)
    segment = fields["segment_index"].get_content().strip()
    SEEN.append(("POST", "append", (segment, len(media))))
    return Response(status_code=204)


STATUS_POLLS = ["in_progress", "succeeded"]


async def _finalize(request: Request) -> Response:
    kind = request.path_params["kind"]
    SEEN.append(("POST", "finalize", None))
    data: dict[str, Any] = {"id": "m1", "size": len(PNG)}
    if kind == "processing":
        data["processing_info"] = {"state": "pending", "check_after_secs": 0}
    return JSONResponse({"data": data})


async def _status(request: Request) -> Response:
    SEEN.append(("GET", "status", dict(request.query_params)))
    state = STATUS_POLLS[sum(1 for call in SEEN if call[1] == "status") - 1]
    return JSONResponse({"data": {"id": "m1", "processing_info": {"state": state}}})


async def _metadata(request: Request) -> Response:
    SEEN.append(("POST", "metadata", await request.json()))
    return JSONResponse({"data": {"associated_metadata": True}})


@pytest.fixture(scope="module")
def scripted_url() -> Iterator[str]:
    routes = [
        Route("/{kind}/2/tweets", _tweets, methods=["POST"]),
        Route("/{kind}/2/users/me", _me),
        Route("/{kind}/2/users/{id}/tweets", _timeline),
        Route("/{kind}/2/media/upload/initialize", _initialize, methods=["POST"]),
        Route("/{kind}/2/media/upload/{id}/append", _append, methods=["POST"]),
        Route("/{kind}/2/media/upload/{id}/finalize", _finalize, methods=["POST"]),
        Route("/{kind}/2/media/upload", _status),
        Route("/{kind}/2/media/metadata", _metadata, methods=["POST"]),
    ]
    with serve_in_thread(Starlette(routes=routes)) as base_url:
        yield base_url


@pytest.fixture(autouse=True)
def _forget_calls() -> None:
    SEEN.clear()


def png_item(alt: str | None = None, *, size: int | None = len(PNG)) -> MediaItem:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(PNG), 700):  # pieces that straddle the upload's chunks
            yield PNG[start : start + 700]

    return MediaItem("image", "image/png", "https://cdn.example/a.png", alt, chunks, size)


def x_request(base_url: str, **fields: Any) -> PublishRequest:
    values: dict[str, Any] = {
        "target_id": "target-1",
        "platform": Platform.TWITTER,
        "account_external_id": "42",
        "text": "Hello from Herald",
        "options": {"apiUrl": base_url, "username": "ada"},
        "credentials": {"accessToken": TOKEN},
    }
    values.update(fields)
    return PublishRequest(**values)


def _run(call: Callable[[HttpClient], Awaitable[Any]]) -> Any:
    async def scenario() -> Any:
        async with platform_client() as http:
            return await call(http)

    return asyncio.run(scenario())


def publish(request: PublishRequest) -> Published:
    published: Published = _run(lambda http: connector.publish(http, request, "key-1"))
    return published


def publish_error(request: PublishRequest) -> PublishError:
    with pytest.raises(PublishError) as caught:
        publish(request)
    return caught.value


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        ("401", AuthExpiredError, "X refused the access token: status 401 says no"),
        ("scope", AuthExpiredError, "X refused the access token: Authenticating with OAuth"),
        ("reply-refused", RejectedError, "X refused the tweet: Reply to this conversation"),
        ("target-gone", RejectedError, "The tweet you are replying to does not exist"),
        ("403", RejectedError, "X rejected the tweet: status 403 says no"),
        ("400", RejectedError, "X rejected the tweet: status 400 says no"),
        ("redirect", RejectedError, "apiUrl is not where the API answers"),
        ("500", OutcomeUnknownError, "X answered HTTP 500 (status 500 says no); the tweet may"),
        ("503", OutcomeUnknownError, "the tweet may exist"),
        ("garbled", OutcomeUnknownError, "unreadable body; the tweet may exist"),
    ],
)
def test_tweet_answers_map_onto_the_taxonomy(
    scripted_url: str, kind: str, error: type[PublishError], message: str
) -> None:
    caught = publish_error(x_request(f"{scripted_url}/{kind}"))
    assert type(caught) is error
    assert message in caught.message


@pytest.mark.parametrize(
    ("kind", "code"),
    [("reply-refused", "X_REPLY_NOT_AUTHORIZED"), ("target-gone", "X_TARGET_REJECTED")],
)
def test_refused_replies_and_quotes_carry_publoras_codes(
    scripted_url: str, kind: str, code: str
) -> None:
    caught = publish_error(x_request(f"{scripted_url}/{kind}", settings={"replyTo": "1999"}))
    assert isinstance(caught, RejectedError)
    assert caught.code == code


def test_a_429_holds_the_connection_until_the_windows_reset(scripted_url: str) -> None:
    caught = publish_error(x_request(f"{scripted_url}/rate"))
    assert isinstance(caught, RetryableError)
    assert caught.rate_limited
    assert caught.retry_after is not None
    assert 55 <= caught.retry_after <= 61


def test_a_spent_24_hour_cap_waits_for_its_own_reset(scripted_url: str) -> None:
    caught = publish_error(x_request(f"{scripted_url}/daily-cap"))
    assert isinstance(caught, RetryableError)
    assert caught.rate_limited
    assert caught.retry_after is not None
    assert 7100 <= caught.retry_after <= 7201


def test_a_token_echoed_back_is_redacted(scripted_url: str) -> None:
    caught = publish_error(x_request(f"{scripted_url}/leaky"))
    assert isinstance(caught, AuthExpiredError)
    assert TOKEN not in repr(caught)
    assert "[redacted]" in caught.message


def test_a_connection_dropped_after_sending_is_outcome_unknown() -> None:
    with pytest.raises(OutcomeUnknownError, match="ServerDisconnected"):
        publish_to_a_hang_up(connector, x_request, "k")


def test_a_tweet_with_media_goes_through_the_chunked_upload(scripted_url: str) -> None:
    published = publish(x_request(f"{scripted_url}/ok", media=(png_item("A cat"),)))
    assert published == Published("1001", "https://x.com/ada/status/1001")
    steps = [(method, path) for method, path, _ in SEEN]
    assert steps == [
        ("POST", "initialize"),
        ("POST", "append"),
        ("POST", "append"),
        ("POST", "append"),
        ("POST", "finalize"),
        ("POST", "metadata"),
        ("POST", "/2/tweets"),
    ]
    init = SEEN[0][2]
    assert init == {
        "media_type": "image/png",
        "total_bytes": len(PNG),
        "media_category": "tweet_image",
    }
    assert [body for _, path, body in SEEN if path == "append"] == [
        ("0", 1000),
        ("1", 1000),
        ("2", len(PNG) - 2000),
    ]
    assert SEEN[5][2] == {"id": "m1", "metadata": {"alt_text": {"text": "A cat"}}}
    assert SEEN[6][2] == {"text": "Hello from Herald", "media": {"media_ids": ["m1"]}}


def test_a_file_of_unknown_size_is_read_first(scripted_url: str) -> None:
    publish(x_request(f"{scripted_url}/ok", media=(png_item(size=None),)))
    assert SEEN[0][2]["total_bytes"] == len(PNG)


def test_processing_is_waited_out_before_the_tweet(scripted_url: str) -> None:
    publish(x_request(f"{scripted_url}/processing", media=(png_item(),)))
    steps = [path for _, path, _ in SEEN]
    assert steps[-3:] == ["status", "status", "/2/tweets"]
    assert SEEN[-2][2] == {"command": "STATUS", "media_id": "m1"}


@pytest.mark.parametrize("kind", ["media-400", "media-413"])
def test_a_refused_file_is_rejected(scripted_url: str, kind: str) -> None:
    caught = publish_error(x_request(f"{scripted_url}/{kind}", media=(png_item(),)))
    assert isinstance(caught, RejectedError)
    assert not [call for call in SEEN if call[1] == "/2/tweets"]


@pytest.mark.parametrize("kind", ["media-500", "media-503"])
def test_media_failures_never_leave_a_tweet_in_doubt(scripted_url: str, kind: str) -> None:
    caught = publish_error(x_request(f"{scripted_url}/{kind}", media=(png_item(),)))
    assert type(caught) is RetryableError


def test_an_oversized_image_is_refused_before_any_upload(scripted_url: str) -> None:
    item = png_item(size=6 * 1024 * 1024)
    caught = publish_error(x_request(f"{scripted_url}/ok", media=(item,)))
    assert isinstance(caught, RejectedError)
    assert "5 MB" in caught.message
    assert SEEN == []


def test_thread_parts_reply_to_the_previous_part_and_only_the_head_quotes(
    scripted_url: str,
) -> None:
    settings = {"replyTo": "555", "quoteTweet": "https://x.com/bob/status/666"}
    publish(x_request(f"{scripted_url}/ok", settings=settings, part_count=2))
    publish(
        x_request(
            f"{scripted_url}/ok", settings=settings, part_index=1, part_count=2, reply_to_id="1001"
        )
    )
    assert [body for _, path, body in SEEN] == [
        {
            "text": "Hello from Herald",
            "reply": {"in_reply_to_tweet_id": "555"},
            "quote_tweet_id": "666",
        },
        {"text": "Hello from Herald", "reply": {"in_reply_to_tweet_id": "1001"}},
    ]


def test_a_duplicate_refusal_is_settled_by_finding_the_earlier_tweet(scripted_url: str) -> None:
    request = x_request(
        f"{scripted_url}/duplicate-found",
        text="Fish & chips https://example.com/menu",
        reply_to_id="555",
        part_index=1,
        media=(png_item(),),
    )
    assert publish(request) == Published("777", "https://x.com/ada/status/777")


def test_a_duplicate_the_timeline_does_not_show_is_retried_later(scripted_url: str) -> None:
    caught = publish_error(x_request(f"{scripted_url}/duplicate"))
    assert isinstance(caught, RetryableError)
    assert not caught.rate_limited
    assert "duplicate" in caught.message
    assert caught.retry_after == 10.0


def verify(base_url: str) -> Profile:
    options, credentials = {"apiUrl": base_url}, {"accessToken": TOKEN}
    profile: Profile = _run(lambda http: connector.verify(http, credentials, options))
    return profile


def test_verify_reads_the_user(scripted_url: str) -> None:
    profile = verify(f"{scripted_url}/ok")
    assert (profile.external_id, profile.username, profile.display_name) == ("42", "@ada", "Ada L")
    assert profile.profile_url == "https://x.com/ada"
    assert profile.options == {"apiUrl": f"{scripted_url}/ok", "username": "ada"}


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("401", AuthExpiredError),
        ("no-user", RejectedError),
        ("503", RetryableError),
        ("rate", RetryableError),
    ],
)
def test_verify_answers_map_onto_the_taxonomy(
    scripted_url: str, kind: str, error: type[PublishError]
) -> None:
    with pytest.raises(PublishError) as caught:
        verify(f"{scripted_url}/{kind}")
    assert type(caught.value) is error


def test_every_lookup_failure_is_retryable(scripted_url: str) -> None:
    request = x_request(f"{scripted_url}/503")
    with pytest.raises(RetryableError):
        _run(lambda http: connector.lookup(http, request, "key-1"))


def test_a_request_without_a_token_needs_reauthorisation(scripted_url: str) -> None:
    caught = publish_error(x_request(f"{scripted_url}/ok", credentials={}))
    assert isinstance(caught, AuthExpiredError)
    assert json.dumps(SEEN) == "[]"
