"""TelegramConnector.verify against the Telegram simulator over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from herald.domain.platform import Platform
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    Profile,
    RejectedError,
    RetryableError,
)
from sim_support import closed_port, platform_client, serve_in_thread
from telegram_support import (
    ABSENT_CHANNEL,
    BOT,
    OLD_GROUP,
    PRIVATE_CHANNEL,
    PRIVATE_CHAT,
    PUBLIC_CHANNEL,
    SUPERGROUP,
    TOKEN,
    TelegramControl,
    connector,
    telegram_request,
    verify,
)

UNKNOWN_TOKEN = "5550999:AAH-nobody-knows-this-token-000"


def test_declares_telegram_and_what_it_can_do() -> None:
    assert connector.platform is Platform.TELEGRAM
    assert connector.capabilities.idempotency_ttl is None  # the Bot API takes no keys
    assert not connector.capabilities.supports_lookup  # bots cannot read channel history
    assert connector.capabilities.threads  # reply chains


def test_lookup_never_claims_a_message_was_not_sent(telegram_sim: TelegramControl) -> None:
    async def run() -> None:
        async with platform_client() as http:
            await connector.lookup(http, telegram_request(telegram_sim.base_url), "key-1")

    with pytest.raises(OutcomeUnknownError, match="cannot check"):
        asyncio.run(run())


def test_a_public_channel_by_username(telegram_sim: TelegramControl) -> None:
    assert verify(telegram_sim.base_url, "@herald_news") == Profile(
        external_id=str(PUBLIC_CHANNEL),
        username="@herald_news",
        display_name="Herald News",
        profile_url="https://t.me/herald_news",
        options={"chatUsername": "herald_news", "chatType": "channel"},
    )
    calls = telegram_sim.stats()["calls"]
    assert (calls["getme"], calls["getchat"], calls["getchatmember"]) == (1, 1, 1)


def test_a_public_channel_by_its_numeric_id(telegram_sim: TelegramControl) -> None:
    assert verify(telegram_sim.base_url, str(PUBLIC_CHANNEL)).username == "@herald_news"


def test_a_private_channel_by_its_numeric_id(telegram_sim: TelegramControl) -> None:
    assert verify(telegram_sim.base_url, str(PRIVATE_CHANNEL)) == Profile(
        external_id=str(PRIVATE_CHANNEL),
        username="Backstage",
        display_name="Backstage",
        profile_url=None,
        options={"chatUsername": None, "chatType": "channel"},
    )


def test_a_supergroup_and_a_private_chat_need_only_membership(
    telegram_sim: TelegramControl,
) -> None:
    assert verify(telegram_sim.base_url, str(SUPERGROUP)).options["chatType"] == "supergroup"
    private = verify(telegram_sim.base_url, str(PRIVATE_CHAT))
    assert (private.display_name, private.options["chatType"]) == ("Ada", "private")


def test_an_upgraded_group_is_followed_to_its_supergroup(telegram_sim: TelegramControl) -> None:
    profile = verify(telegram_sim.base_url, str(OLD_GROUP))
    assert profile.external_id == str(SUPERGROUP)


@pytest.mark.parametrize("token", [UNKNOWN_TOKEN, "5550001:AAH-herald-test-token-WRONG00000"])
def test_a_wrong_token_is_auth_expired_naming_telegram_and_the_reason(
    telegram_sim: TelegramControl, token: str
) -> None:
    with pytest.raises(AuthExpiredError) as caught:
        verify(telegram_sim.base_url, "@herald_news", token=token)
    assert caught.value.message == "Telegram refused the bot token: Unauthorized"
    assert caught.value.http_status == 401
    assert token not in repr(caught.value)


def test_a_token_of_the_wrong_shape_is_refused_without_a_request(
    telegram_sim: TelegramControl,
) -> None:
    with pytest.raises(AuthExpiredError, match="not of the form"):
        verify(telegram_sim.base_url, "@herald_news", token="../getMe?x=1")
    assert telegram_sim.stats()["calls"] == {}


@pytest.mark.parametrize("chat", ["@no_post_rights", "@bot_absent"])
def test_a_bot_that_cannot_post_in_the_channel_is_refused(
    telegram_sim: TelegramControl, chat: str
) -> None:
    with pytest.raises(RejectedError) as caught:
        verify(telegram_sim.base_url, chat)
    assert caught.value.message == (
        f"The bot @{BOT.username} is not an administrator of {chat}; add it as an admin with "
        "the right to post messages"
    )


def test_a_channel_named_by_id_is_named_by_its_username_in_errors(
    telegram_sim: TelegramControl,
) -> None:
    with pytest.raises(RejectedError, match="is not an administrator of @bot_absent;"):
        verify(telegram_sim.base_url, f"{ABSENT_CHANNEL}")


@pytest.mark.parametrize("chat", ["@no_such_channel", "-1009999999999"])
def test_an_unknown_chat_is_refused_clearly(telegram_sim: TelegramControl, chat: str) -> None:
    with pytest.raises(RejectedError) as caught:
        verify(telegram_sim.base_url, chat)
    assert caught.value.message.startswith(
        f"Telegram cannot find the chat {chat}: Bad Request: chat not found."
    )


def test_a_bot_restricted_in_a_group_is_refused(telegram_sim: TelegramControl) -> None:
    members = {str(BOT.id): {"status": "restricted", "can_send_messages": False}}
    telegram_sim.configure(
        chats=[{"id": -42, "type": "group", "title": "Quiet", "members": members}]
    )
    with pytest.raises(RejectedError, match="may not send messages in -42"):
        verify(telegram_sim.base_url, "-42")


def test_a_bot_that_left_a_public_group_is_refused(telegram_sim: TelegramControl) -> None:
    chat = {"id": -43, "type": "supergroup", "title": "Open", "username": "open_group"}
    telegram_sim.configure(chats=[chat])
    with pytest.raises(RejectedError, match="is not a member of @open_group"):
        verify(telegram_sim.base_url, "@open_group")


@pytest.mark.parametrize(
    ("credentials", "options", "message"),
    [
        ({}, {"chat": "@herald_news"}, "no bot token"),
        ({"botToken": TOKEN}, {}, "needs a chat"),
        ({"botToken": TOKEN}, {"chat": "herald_news"}, "needs a chat"),
        ({"botToken": TOKEN}, {"chat": "@x", "apiUrl": "ftp://x"}, "apiUrl"),
    ],
)
def test_unusable_connection_fields_are_rejected(
    credentials: dict[str, str], options: dict[str, str], message: str
) -> None:
    async def run() -> None:
        async with platform_client() as http:
            await connector.verify(http, credentials, options)

    with pytest.raises(RejectedError, match=message):
        asyncio.run(run())


async def _misbehaving(request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind == "html502":
        return PlainTextResponse("<html>Bad Gateway</html>", status_code=502)
    if kind == "flood":
        body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 9"}
        return JSONResponse({**body, "parameters": {"retry_after": 9}}, status_code=429)
    body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    return JSONResponse(body, status_code=500)


@pytest.fixture(scope="module")
def odd_url() -> Iterator[str]:
    app = Starlette(routes=[Route("/{kind}/bot{token}/{method}", _misbehaving, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        yield base_url


@pytest.mark.parametrize("kind", ["html502", "error500"])
def test_server_errors_while_verifying_are_retryable(odd_url: str, kind: str) -> None:
    with pytest.raises(RetryableError) as caught:
        verify(f"{odd_url}/{kind}", "@herald_news")
    assert not caught.value.rate_limited
    assert TOKEN not in caught.value.message


def test_flood_control_while_verifying_is_rate_limited(odd_url: str) -> None:
    with pytest.raises(RetryableError) as caught:
        verify(f"{odd_url}/flood", "@herald_news")
    assert (caught.value.rate_limited, caught.value.retry_after) == (True, 9)


def test_an_unreachable_server_is_retryable() -> None:
    with pytest.raises(RetryableError, match="Could not reach Telegram"):
        verify(f"http://127.0.0.1:{closed_port()}", "@herald_news")
