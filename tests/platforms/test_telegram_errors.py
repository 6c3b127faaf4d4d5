"""TelegramConnector.publish failures over real HTTP: every outcome lands in the taxonomy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from herald.platforms.base import (
    AuthExpiredError,
    MediaItem,
    OutcomeUnknownError,
    RejectedError,
    RetryableError,
)
from sim_support import closed_port, publish_to_a_hang_up, serve_in_thread
from telegram_support import (
    ABSENT_CHANNEL,
    BOT,
    GROUP,
    NO_POST_CHANNEL,
    TOKEN,
    TelegramControl,
    connector,
    image_item,
    publish,
    telegram_request,
)


def test_a_429_is_retryable_after_telegrams_delay(telegram_sim: TelegramControl) -> None:
    telegram_sim.configure(retry_after_s=7)
    telegram_sim.script("rate_limit")
    with pytest.raises(RetryableError) as caught:
        publish(telegram_request(telegram_sim.base_url))
    assert (caught.value.rate_limited, caught.value.retry_after) == (True, 7)
    assert caught.value.http_status == 429
    assert caught.value.message == (
        "Telegram is rate limiting the bot: Too Many Requests: retry after 7"
    )
    assert telegram_sim.messages() == []


def test_flood_control_waits_for_the_window_to_free(telegram_sim: TelegramControl) -> None:
    telegram_sim.configure(chat_messages_per_minute=2)
    publish(telegram_request(telegram_sim.base_url))
    publish(telegram_request(telegram_sim.base_url))
    with pytest.raises(RetryableError) as caught:
        publish(telegram_request(telegram_sim.base_url))
    assert caught.value.rate_limited
    assert caught.value.retry_after is not None
    assert 55 <= caught.value.retry_after <= 60
    assert len(telegram_sim.messages()) == 2


@pytest.mark.parametrize("fault", ["unavailable", "timeout"])
def test_faults_that_send_nothing_are_still_unknown_to_herald(
    telegram_sim: TelegramControl, fault: str
) -> None:
    # A 502, or no answer at all, does not say whether Telegram sent the message.
    telegram_sim.script(fault)
    with pytest.raises(OutcomeUnknownError, match="may have been sent"):
        publish(telegram_request(telegram_sim.base_url))
    assert telegram_sim.messages() == []


@pytest.mark.parametrize("fault", ["error_after_create", "lost_response"])
def test_faults_after_sending_are_outcome_unknown(
    telegram_sim: TelegramControl, fault: str
) -> None:
    telegram_sim.script(fault)
    with pytest.raises(OutcomeUnknownError) as caught:
        publish(telegram_request(telegram_sim.base_url))
    assert "may have been sent" in caught.value.message
    assert len(telegram_sim.messages()) == 1  # it was sent: a blind retry would post it twice


def test_a_refusal_carries_telegrams_description(telegram_sim: TelegramControl) -> None:
    telegram_sim.script("rejected")
    with pytest.raises(RejectedError) as caught:
        publish(telegram_request(telegram_sim.base_url))
    assert caught.value.message == (
        "Telegram rejected the message: Bad Request: rejected by fault injection"
    )
    assert caught.value.http_status == 400


def test_a_revoked_token_is_auth_expired_and_never_echoed(telegram_sim: TelegramControl) -> None:
    revoked = "5550001:AAH-revoked-token-000000000000"
    request = telegram_request(telegram_sim.base_url, credentials={"botToken": revoked})
    with pytest.raises(AuthExpiredError) as caught:
        publish(request)
    assert caught.value.message == "Telegram refused the bot token: Unauthorized"
    assert revoked not in repr(caught.value)


@pytest.mark.parametrize(
    ("chat", "description", "status"),
    [
        (ABSENT_CHANNEL, "Forbidden: bot is not a member of the channel chat", 403),
        (NO_POST_CHANNEL, "Bad Request: need administrator rights in the channel chat", 400),
    ],
)
def test_a_bot_without_rights_in_the_channel_needs_the_owner(
    telegram_sim: TelegramControl, chat: int, description: str, status: int
) -> None:
    # Every post to this connection would fail the same way until an admin acts: re-auth.
    with pytest.raises(AuthExpiredError) as caught:
        publish(telegram_request(telegram_sim.base_url, chat))
    assert description in caught.value.message
    assert "administrator of the channel with the right to post" in caught.value.message
    assert caught.value.http_status == status


def test_a_bot_kicked_from_a_group_needs_the_owner(telegram_sim: TelegramControl) -> None:
    members = {str(BOT.id): {"status": "kicked"}}
    telegram_sim.configure(chats=[{"id": GROUP, "type": "group", "title": "G", "members": members}])
    with pytest.raises(AuthExpiredError, match="Forbidden: bot was kicked from the group chat"):
        publish(telegram_request(telegram_sim.base_url, GROUP))


def test_a_group_that_moved_twice_is_rejected_with_its_new_id(
    telegram_sim: TelegramControl,
) -> None:
    telegram_sim.configure(
        chats=[
            {"id": -1, "type": "group", "title": "A", "migrated_to": -2},
            {"id": -2, "type": "group", "title": "B", "migrated_to": -3},
        ]
    )
    with pytest.raises(RejectedError, match="upgraded to a supergroup"):
        publish(telegram_request(telegram_sim.base_url, -1))


def test_a_refused_connection_is_retryable() -> None:
    request = telegram_request(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(RetryableError, match=r"Could not reach Telegram \(ConnectError\)"):
        publish(request)


def test_a_connection_dropped_after_sending_is_outcome_unknown() -> None:
    with pytest.raises(OutcomeUnknownError, match="ServerDisconnected"):
        publish_to_a_hang_up(connector, telegram_request, "key-1")


def test_a_media_file_that_cannot_be_read_sends_nothing(telegram_sim: TelegramControl) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"\x89PNG\r\n"
        raise OSError("disk gone")

    item = MediaItem("image", "image/png", "https://media.example/a.png", None, broken)
    with pytest.raises(RetryableError, match=r"Could not read a media file .*OSError"):
        publish(telegram_request(telegram_sim.base_url, media=[item]))
    # An incomplete body is never acted on; the simulator saw no complete request.
    publish(telegram_request(telegram_sim.base_url, media=[image_item()]))
    assert len(telegram_sim.messages()) == 1


async def _odd_answer(request: Request) -> Response:
    """Answers as a proxy or a broken server in front of the Bot API might."""
    kind = request.path_params["kind"]
    if kind == "garbled":
        return PlainTextResponse("<html>ok</html>", status_code=200)
    if kind == "no-id":
        return JSONResponse({"ok": True, "result": {"chat": {"id": 1}}})
    if kind == "html404":
        return PlainTextResponse("<html>Not here</html>", status_code=404)
    if kind == "proxy429":
        return PlainTextResponse("slow down", status_code=429, headers={"Retry-After": "12"})
    if kind.startswith("wait"):  # a flood wait with any number Telegram's JSON could carry
        wait = kind.removeprefix("wait")
        text = '{"ok": false, "error_code": 429, "description": "Too Many Requests", '
        text += f'"parameters": {{"retry_after": {wait}}}}}'
        return Response(text, status_code=429, media_type="application/json")
    if kind == "leaky":
        token = request.path_params["token"]
        body = {"ok": False, "error_code": 400, "description": f"Bad Request: bot{token} broke"}
        return JSONResponse(body, status_code=400)
    body = {"ok": False, "error_code": int(kind), "description": f"Error {kind}"}
    return JSONResponse(body, status_code=int(kind))


@pytest.fixture(scope="module")
def odd_url() -> Iterator[str]:
    app = Starlette(routes=[Route("/{kind}/bot{token}/{method}", _odd_answer, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        yield base_url


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("garbled", OutcomeUnknownError),
        ("no-id", OutcomeUnknownError),
        ("500", OutcomeUnknownError),
        ("502", OutcomeUnknownError),
        ("html404", RejectedError),
        ("404", AuthExpiredError),
        ("401", AuthExpiredError),
        ("403", AuthExpiredError),
        ("413", RejectedError),
        ("409", RejectedError),
    ],
)
def test_answers_map_onto_the_taxonomy(odd_url: str, kind: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        publish(telegram_request(f"{odd_url}/{kind}"))
    assert type(caught.value) is error


def test_a_proxys_rate_limit_is_retryable_after_its_header(odd_url: str) -> None:
    with pytest.raises(RetryableError) as caught:
        publish(telegram_request(f"{odd_url}/proxy429"))
    assert (caught.value.rate_limited, caught.value.retry_after) == (True, 12)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("300000000000", 86400.0), ("9" * 400, 86400.0), ("1e400", 86400.0), ("-5", None)],
)
def test_telegrams_retry_after_is_bounded_or_ignored(
    odd_url: str, retry_after: str, expected: float | None
) -> None:
    with pytest.raises(RetryableError) as caught:
        publish(telegram_request(f"{odd_url}/wait{retry_after}"))
    assert (caught.value.rate_limited, caught.value.retry_after) == (True, expected)


def test_a_token_echoed_back_is_redacted(odd_url: str) -> None:
    with pytest.raises(RejectedError) as caught:
        publish(telegram_request(f"{odd_url}/leaky"))
    assert TOKEN not in caught.value.message
    assert "bot[redacted] broke" in caught.value.message
