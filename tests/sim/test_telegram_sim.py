"""The Telegram simulator's Bot API rules, encodings, faults and control API, over real HTTP."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest

from herald.sim.faults import FAULTS
from herald.sim.telegram import create_telegram_app
from herald.sim.telegram_config import DEMO_TOKEN
from sim_support import serve_in_thread
from telegram_support import (
    ABSENT_CHANNEL,
    BOT,
    GROUP,
    NO_POST_CHANNEL,
    OLD_GROUP,
    OTHER_TOKEN,
    PRIVATE_CHANNEL,
    PRIVATE_CHAT,
    PUBLIC_CHANNEL,
    SUPERGROUP,
    TelegramControl,
    bot_answer,
    image_bytes,
    photo_parts,
    send_album,
    send_text,
    world_config,
)

# ---- tokens, methods and encodings ----


def test_tokens_and_methods(telegram_sim: TelegramControl) -> None:
    assert bot_answer(telegram_sim.call("getMe"))[1]["username"] == BOT.username
    assert bot_answer(telegram_sim.call("GETME"))[0] == 200  # method names are case-insensitive
    assert bot_answer(telegram_sim.call("getMe", token="5550001:AAH-wrong")) == (
        401,
        "Unauthorized",
    )
    assert bot_answer(telegram_sim.call("getMe", token="not-a-token")) == (404, "Not Found")
    assert bot_answer(telegram_sim.call("getUpdatesPlease")) == (404, "Not Found")
    assert telegram_sim.http.get(f"/bot{DEMO_TOKEN}/getMe").status_code == 401  # not in this world


def test_parameters_come_from_json_forms_multipart_and_the_query(
    telegram_sim: TelegramControl,
) -> None:
    reply = {"message_id": 1}
    assert bot_answer(send_text(telegram_sim, text="one"))[0] == 200
    form = {"chat_id": str(PUBLIC_CHANNEL), "text": "two", "reply_parameters": json.dumps(reply)}
    assert bot_answer(telegram_sim.call("sendMessage", data=form))[0] == 200
    assert (
        bot_answer(telegram_sim.call("sendMessage", data=form, files=photo_parts(b"unused")))[0]
        == 200
    )
    query = {"chat_id": "@herald_news", "text": "four"}
    assert bot_answer(telegram_sim.http.get(f"/bot{BOT.token}/sendMessage", params=query))[0] == 200
    assert [(m["text"], m["reply_to"]) for m in telegram_sim.messages()] == [
        ("one", None),
        ("two", 1),
        ("two", 1),
        ("four", None),
    ]


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"content": b"{nope", "headers": {"content-type": "application/json"}}, "JSON"),
        ({"json": ["not", "an", "object"]}, "must be an object"),
        (
            {"data": {"chat_id": str(PUBLIC_CHANNEL), "text": "x", "reply_parameters": "{"}},
            "reply_parameters",
        ),
        ({"json": {"chat_id": PUBLIC_CHANNEL, "text": {"a": 1}}}, 'field "text"'),
    ],
)
def test_malformed_parameters_are_400(
    telegram_sim: TelegramControl, kwargs: dict[str, Any], description: str
) -> None:
    status, text = bot_answer(telegram_sim.call("sendMessage", **kwargs))
    assert status == 400
    assert description in text


def test_uploads_arrive_byte_for_byte(telegram_sim: TelegramControl) -> None:
    # A PNG whose bytes hold CRLFs and a line that looks like a multipart delimiter.
    data = image_bytes(3, 3) + b"\r\n--boundary-lookalike\r\n\r\n" + bytes(range(256))
    response = telegram_sim.call(
        "sendPhoto", data={"chat_id": "@herald_news"}, files={"photo": ("p.png", data, "image/png")}
    )
    assert bot_answer(response)[0] == 200
    assert telegram_sim.messages()[0]["media"]["sha256"] == hashlib.sha256(data).hexdigest()


# ---- chats and members ----


@pytest.mark.parametrize(
    "chat_id", [PUBLIC_CHANNEL, str(PUBLIC_CHANNEL), "@herald_news", "@HERALD_NEWS"]
)
def test_a_chat_by_id_numeric_string_or_username(
    telegram_sim: TelegramControl, chat_id: Any
) -> None:
    status, chat = bot_answer(telegram_sim.call("getChat", json={"chat_id": chat_id}))
    assert (status, chat["id"], chat["type"], chat["username"]) == (
        200,
        PUBLIC_CHANNEL,
        "channel",
        "herald_news",
    )


def test_what_a_bot_can_see(telegram_sim: TelegramControl) -> None:
    assert (
        bot_answer(telegram_sim.call("getChat", json={"chat_id": ABSENT_CHANNEL}))[0] == 200
    )  # public
    hidden = telegram_sim.call("getChat", json={"chat_id": PRIVATE_CHANNEL}, token=OTHER_TOKEN)
    assert bot_answer(hidden) == (400, "Bad Request: chat not found")
    assert bot_answer(telegram_sim.call("getChat", json={"chat_id": "@nobody_here"}))[0] == 400
    private = bot_answer(telegram_sim.call("getChat", json={"chat_id": PRIVATE_CHAT}))[1]
    assert (private["type"], private["first_name"]) == ("private", "Ada")


def test_an_upgraded_group_names_its_supergroup(telegram_sim: TelegramControl) -> None:
    body = send_text(telegram_sim, OLD_GROUP).json()
    assert body["description"] == "Bad Request: group chat was upgraded to a supergroup chat"
    assert body["parameters"] == {"migrate_to_chat_id": SUPERGROUP}


def test_chat_members(telegram_sim: TelegramControl) -> None:
    def member(chat: int, user: int, token: str = BOT.token) -> tuple[int, Any]:
        body = {"chat_id": chat, "user_id": user}
        return bot_answer(telegram_sim.call("getChatMember", token=token, json=body))

    status, me = member(PUBLIC_CHANNEL, BOT.id)
    assert (status, me["status"], me["can_post_messages"], me["user"]["is_bot"]) == (
        200,
        "administrator",
        True,
        True,
    )
    assert member(NO_POST_CHANNEL, BOT.id)[1]["can_post_messages"] is False
    assert member(ABSENT_CHANNEL, BOT.id)[1]["status"] == "left"
    assert member(ABSENT_CHANNEL, 5550002) == (400, "Bad Request: member list is inaccessible")
    assert member(PUBLIC_CHANNEL, 999) == (400, "Bad Request: user not found")
    assert bot_answer(telegram_sim.call("getChatMember", json={"chat_id": GROUP}))[0] == 400


@pytest.mark.parametrize(
    ("chat", "members", "status", "description"),
    [
        ("channel", {}, 403, "Forbidden: bot is not a member of the channel chat"),
        ("channel", {"status": "left"}, 403, "Forbidden: bot is not a member of the channel chat"),
        ("channel", {"status": "kicked"}, 403, "Forbidden: bot was kicked from the channel chat"),
        (
            "channel",
            {"status": "member"},
            400,
            "Bad Request: need administrator rights in the channel chat",
        ),
        ("channel", {"status": "creator"}, 200, None),
        ("supergroup", {}, 403, "Forbidden: bot is not a member of the supergroup chat"),
        ("group", {"status": "kicked"}, 403, "Forbidden: bot was kicked from the group chat"),
        (
            "group",
            {"status": "restricted", "can_send_messages": False},
            400,
            "Bad Request: not enough rights to send text messages to the chat",
        ),
        ("group", {"status": "restricted"}, 200, None),
        ("private", {}, 403, "Forbidden: bot can't initiate conversation with a user"),
        ("private", {"status": "kicked"}, 403, "Forbidden: bot was blocked by the user"),
    ],
)
def test_who_may_send_where(
    telegram_sim: TelegramControl,
    chat: str,
    members: dict[str, Any],
    status: int,
    description: str | None,
) -> None:
    # Public, so the bot can name the chat whatever its membership.
    entry = {"id": -77, "type": chat, "title": "T", "username": "the_chat"}
    telegram_sim.configure(chats=[{**entry, "members": {str(BOT.id): members} if members else {}}])
    code, result = bot_answer(send_text(telegram_sim, -77))
    assert code == status
    if description is not None:
        assert result == description
    assert len(telegram_sim.messages()) == (1 if status == 200 else 0)


# ---- flood control and faults ----


def test_flood_control_per_chat(telegram_sim: TelegramControl) -> None:
    telegram_sim.configure(chat_messages_per_minute=3)
    items = [{"type": "photo", "media": "attach://f0"}] * 2
    assert (
        bot_answer(send_album(telegram_sim, items, photo_parts(image_bytes())))[0] == 200
    )  # two messages
    assert bot_answer(send_text(telegram_sim))[0] == 200
    body = send_text(telegram_sim).json()
    assert (body["error_code"], body["parameters"]["retry_after"]) == (429, 60)
    assert body["description"] == "Too Many Requests: retry after 60"
    assert (
        bot_answer(send_text(telegram_sim, PRIVATE_CHANNEL))[0] == 200
    )  # another chat has its own budget
    assert telegram_sim.stats()["rate_limited"] == 1


FAULT_ANSWERS = {
    "rate_limit": (429, "Too Many Requests: retry after 4", 0),
    "unavailable": (502, "Bad Gateway", 0),
    "timeout": (502, "Bad Gateway", 0),
    "rejected": (400, "Bad Request: rejected by fault injection", 0),
    "error_after_create": (500, "Internal Server Error", 1),
    "lost_response": (200, None, 1),
}


@pytest.mark.parametrize("fault", sorted(FAULT_ANSWERS))
def test_faults(telegram_sim: TelegramControl, fault: str) -> None:
    telegram_sim.configure(hang_s=0.2, retry_after_s=4)
    telegram_sim.script(fault)
    started = time.monotonic()
    status, result = bot_answer(send_text(telegram_sim))
    expected_status, description, stored = FAULT_ANSWERS[fault]
    assert status == expected_status
    if description is not None:
        assert result == description
    if fault in ("timeout", "lost_response"):
        assert time.monotonic() - started >= 0.2
    assert len(telegram_sim.messages()) == stored
    assert telegram_sim.stats()["faults"][fault] == 1


def test_faults_spare_queries_and_invalid_sends(telegram_sim: TelegramControl) -> None:
    telegram_sim.script("unavailable")
    assert bot_answer(telegram_sim.call("getMe"))[0] == 200
    assert (
        bot_answer(send_text(telegram_sim, text=""))[0] == 400
    )  # refused before any fault is drawn
    assert bot_answer(send_text(telegram_sim))[0] == 502


def test_random_faults_follow_the_seed(telegram_sim: TelegramControl) -> None:
    def run() -> list[int]:
        telegram_sim.configure(seed=7, faults={"rejected": 0.5})
        return [send_text(telegram_sim).status_code for _ in range(12)]

    first = run()
    assert set(first) == {200, 400}
    telegram_sim.reset()
    assert run() == first


# ---- control API ----


def test_config_round_trip_and_reset(telegram_sim: TelegramControl) -> None:
    config = telegram_sim.configure(
        latency_ms=1,
        chats=[
            {
                "id": -9,
                "type": "supergroup",
                "title": "New",
                "members": {str(BOT.id): {"status": "member"}},
            }
        ],
    )
    assert config["latency_ms"] == 1
    assert [chat["id"] for chat in config["chats"]] == [-9]
    assert config["chats"][0]["members"][str(BOT.id)]["status"] == "member"
    assert "token" not in config  # the sandbox's bearer token means nothing here
    assert bot_answer(send_text(telegram_sim, -9))[0] == 200
    assert bot_answer(send_text(telegram_sim, PUBLIC_CHANNEL))[0] == 400
    telegram_sim.reset()
    restored = telegram_sim.http.get("/_sim/config").json()
    assert (restored["latency_ms"], len(restored["chats"])) == (0, len(world_config().chats))


@pytest.mark.parametrize(
    "changes",
    [
        {"token": "x"},
        {"idempotency_ttl_s": 5},
        {"nonsense": 1},
        {"chats": [{"id": 1, "type": "forum"}]},
        {"chats": [{"id": True, "type": "group"}]},
        {"chats": [{"id": 1, "type": "group", "members": {"x": {"status": "member"}}}]},
        {"chats": [{"id": 1, "type": "group", "members": {"1": {"status": "boss"}}}]},
        {"bots": [{"id": 1, "token": "", "username": "b"}]},
        {"photo_max_bytes": 0},
        {"faults": {"meteor": 0.1}},
    ],
)
def test_invalid_config_is_422(telegram_sim: TelegramControl, changes: dict[str, Any]) -> None:
    response = telegram_sim.http.post("/_sim/config", json=changes)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_config"


def test_invalid_script_is_422(telegram_sim: TelegramControl) -> None:
    response = telegram_sim.http.post("/_sim/script", json={"faults": ["meteor"]})
    assert (response.status_code, response.json()["error"]) == (422, "invalid_script")


def test_messages_filter_by_chat(telegram_sim: TelegramControl) -> None:
    send_text(telegram_sim, PUBLIC_CHANNEL)
    send_text(telegram_sim, PRIVATE_CHANNEL)
    assert [m["chat_id"] for m in telegram_sim.messages("@herald_news")] == [PUBLIC_CHANNEL]
    assert [m["chat_id"] for m in telegram_sim.messages(PRIVATE_CHANNEL)] == [PRIVATE_CHANNEL]
    assert telegram_sim.messages("@nobody") == []
    assert len(telegram_sim.messages()) == 2
    stats = telegram_sim.stats()
    assert (stats["requests"], stats["messages"], stats["calls"]) == (2, 2, {"sendmessage": 2})
    assert set(stats["faults"]) == set(FAULTS)


def test_the_default_world_is_a_demo_bot_and_channel() -> None:
    with serve_in_thread(create_telegram_app()) as base_url:
        control = TelegramControl(base_url)
        try:
            response = control.call(
                "sendMessage", token=DEMO_TOKEN, json={"chat_id": "@herald_demo", "text": "hi"}
            )
            assert bot_answer(response)[0] == 200
        finally:
            control.close()
