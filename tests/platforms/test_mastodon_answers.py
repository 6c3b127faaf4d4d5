"""How MastodonConnector classes each answer an instance can give, against a scripted server
that answers every call the way its path says (the simulator only gives well-behaved ones)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)
from mastodon_support import (
    PNG,
    TOKEN,
    connector,
    lookup,
    mastodon_request,
    media_item,
    publish,
    verify,
)
from sim_support import publish_to_a_hang_up, serve_in_thread

ANSWERS: dict[str, tuple[int, object]] = {
    "scope": (403, {"error": "This action is outside the authorized scopes"}),
    "disabled": (403, {"error": "Your login is currently disabled"}),
    "app-token": (422, {"error": "This method requires an authenticated user"}),
    "described": (
        422,
        {"error": "invalid_request", "error_description": "The request is missing a parameter"},
    ),
    "not-account": (200, ["not", "an", "account"]),
}


async def _answer(request: Request) -> Response:
    kind = request.path_params["kind"]
    await request.body()
    if kind == "garbled":
        return PlainTextResponse("<html>oops</html>", status_code=200)
    if kind == "html-404":
        return PlainTextResponse("<html>Not Found</html>", status_code=404)
    if kind == "leaky":  # an instance that echoes the credential back in its error
        bearer = request.headers.get("authorization", "")
        return JSONResponse({"error": f"bad token: {bearer}"}, status_code=401)
    if kind == "retry-after":
        return JSONResponse({"error": "Too many requests"}, 429, {"Retry-After": "12"})
    if kind == "redirect":
        return Response(status_code=301, headers={"Location": "https://mastodon.example/"})
    if kind in ANSWERS:
        status, body = ANSWERS[kind]
        return JSONResponse(body, status_code=status)
    return JSONResponse({"error": f"status {kind} says no"}, status_code=int(kind))


@pytest.fixture(scope="module")
def scripted_url() -> Iterator[str]:
    paths = (
        "/api/v1/statuses",
        "/api/v2/media",
        "/api/v1/accounts/verify_credentials",
        "/api/v1/accounts/{id}/statuses",
    )
    routes = [Route(f"/{{kind}}{path}", _answer, methods=["GET", "POST"]) for path in paths]
    with serve_in_thread(Starlette(routes=routes)) as base_url:
        yield base_url


def _publish_error(base_url: str, kind: str, *, with_media: bool = False) -> PublishError:
    media = (media_item(PNG),) if with_media else ()
    with pytest.raises(PublishError) as caught:
        publish(mastodon_request(f"{base_url}/{kind}", media=media))
    return caught.value


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        ("401", AuthExpiredError, "Mastodon refused the access token: status 401 says no"),
        ("scope", AuthExpiredError, "Mastodon refused the access token: This action is outside"),
        ("app-token", AuthExpiredError, "refused the access token: This method requires"),
        ("disabled", RejectedError, "Mastodon refused the status: Your login is currently disa"),
        ("400", RejectedError, "Mastodon rejected the status: status 400 says no"),
        ("404", RejectedError, "Mastodon rejected the status: status 404 says no"),
        ("413", RejectedError, "Mastodon rejected the status: status 413 says no"),
        ("described", RejectedError, "invalid_request: The request is missing a parameter"),
        ("redirect", RejectedError, "redirects to https://mastodon.example/"),
        ("500", OutcomeUnknownError, "HTTP 500 (status 500 says no); the status may exist"),
        ("502", OutcomeUnknownError, "the status may exist"),
        ("503", OutcomeUnknownError, "the status may exist"),
        ("garbled", OutcomeUnknownError, "unreadable body; the status may exist"),
    ],
)
def test_status_answers_map_onto_the_taxonomy(
    scripted_url: str, kind: str, error: type[PublishError], message: str
) -> None:
    caught = _publish_error(scripted_url, kind)
    assert type(caught) is error
    assert message in caught.message


def test_retry_after_is_honoured_when_the_instance_sends_it(scripted_url: str) -> None:
    caught = _publish_error(scripted_url, "retry-after")
    assert isinstance(caught, RetryableError)
    assert (caught.rate_limited, caught.retry_after) == (True, 12.0)


@pytest.mark.parametrize(
    ("kind", "error"),
    [("500", RetryableError), ("503", RetryableError), ("garbled", RetryableError)],
)
def test_media_failures_never_leave_a_status_in_doubt(
    scripted_url: str, kind: str, error: type[PublishError]
) -> None:
    # No status was sent yet, so the whole publish can simply run again.
    caught = _publish_error(scripted_url, kind, with_media=True)
    assert type(caught) is error


def test_a_token_echoed_by_the_instance_is_redacted(scripted_url: str) -> None:
    caught = _publish_error(scripted_url, "leaky")
    assert isinstance(caught, AuthExpiredError)
    assert TOKEN not in repr(caught)
    assert "[redacted]" in caught.message


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        ("html-404", RejectedError, "did not answer like a Mastodon server (HTTP 404"),
        ("not-account", RejectedError, "did not answer like a Mastodon server (no account"),
        ("garbled", RejectedError, "did not answer like a Mastodon server"),
        ("disabled", RejectedError, "Mastodon refused the account: Your login is currently"),
        ("scope", AuthExpiredError, "Mastodon refused the access token"),
        ("503", RetryableError, "Mastodon answered HTTP 503"),
        ("retry-after", RetryableError, "rate limit"),
    ],
)
def test_verify_answers_map_onto_the_taxonomy(
    scripted_url: str, kind: str, error: type[PublishError], message: str
) -> None:
    with pytest.raises(PublishError) as caught:
        verify(f"{scripted_url}/{kind}")
    assert type(caught.value) is error
    assert message in caught.value.message


@pytest.mark.parametrize("kind", ["garbled", "not-account", "described", "500", "redirect"])
def test_every_lookup_failure_is_retryable(scripted_url: str, kind: str) -> None:
    with pytest.raises(RetryableError):
        lookup(mastodon_request(f"{scripted_url}/{kind}"))


def test_a_connection_dropped_after_sending_is_outcome_unknown() -> None:
    with pytest.raises(OutcomeUnknownError, match="ServerDisconnected"):
        publish_to_a_hang_up(connector, mastodon_request, "k")
