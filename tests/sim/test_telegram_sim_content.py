"""The Telegram simulator's content rules over real HTTP: text, markup, entities, replies, media."""

from __future__ import annotations

from typing import Any

import pytest

from telegram_support import (
    PRIVATE_CHANNEL,
    PUBLIC_CHANNEL,
    TelegramControl,
    bot_answer,
    image_bytes,
    photo_parts,
    send_album,
    send_text,
)

# ---- content rules ----


@pytest.mark.parametrize(
    ("fields", "ok", "description"),
    [
        ({"text": "😀" * 2048}, True, None),
        ({"text": "😀" * 2048 + "x"}, False, "Bad Request: message is too long"),
        ({"text": " \n "}, False, "Bad Request: message text is empty"),
        ({"text": "<b> </b>", "parse_mode": "HTML"}, False, "Bad Request: message text is empty"),
        ({"text": "x", "parse_mode": "BBCode"}, False, "Bad Request: unsupported parse_mode"),
    ],
)
def test_text_rules(
    telegram_sim: TelegramControl, fields: dict[str, Any], ok: bool, description: str | None
) -> None:
    status, result = bot_answer(send_text(telegram_sim, **fields))
    assert (status == 200) is ok
    if description is not None:
        assert result == description


@pytest.mark.parametrize(
    ("mode", "text", "plain", "entities"),
    [
        (
            "HTML",
            '<b>b <i>i</i></b> <a href="https://a.example/?x=1&amp;y=2">l</a> &lt;3',
            "b i l <3",
            [
                {"type": "bold", "offset": 0, "length": 3},
                {"type": "italic", "offset": 2, "length": 1},
                {
                    "type": "text_link",
                    "offset": 4,
                    "length": 1,
                    "url": "https://a.example/?x=1&y=2",
                },
            ],
        ),
        (
            "HTML",
            '<pre><code class="language-py">x</code></pre><tg-spoiler>s</tg-spoiler>',
            "xs",
            [
                {"type": "pre", "offset": 0, "length": 1, "language": "py"},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            "MarkdownV2",
            "😀 *b _i_* __u__ ~s~ ||p|| `c` [l](https://a.example/\\)) \\.",
            "😀 b i u s p c l .",
            [
                {"type": "bold", "offset": 3, "length": 3},
                {"type": "italic", "offset": 5, "length": 1},
                {"type": "underline", "offset": 7, "length": 1},
                {"type": "strikethrough", "offset": 9, "length": 1},
                {"type": "spoiler", "offset": 11, "length": 1},
                {"type": "code", "offset": 13, "length": 1},
                {"type": "text_link", "offset": 15, "length": 1, "url": "https://a.example/)"},
            ],
        ),
        (
            "MarkdownV2",
            ">quoted\n>lines\nafter",
            "quoted\nlines\nafter",
            [{"type": "blockquote", "offset": 0, "length": 12}],
        ),
        (
            "Markdown",
            "*b* _i_ `c` [l](https://a.example) ```x```",
            "b i c l x",
            [
                {"type": "bold", "offset": 0, "length": 1},
                {"type": "italic", "offset": 2, "length": 1},
                {"type": "code", "offset": 4, "length": 1},
                {"type": "text_link", "offset": 6, "length": 1, "url": "https://a.example"},
                {"type": "pre", "offset": 8, "length": 1},
            ],
        ),
    ],
)
def test_parse_modes(
    telegram_sim: TelegramControl, mode: str, text: str, plain: str, entities: list[dict[str, Any]]
) -> None:
    status, message = bot_answer(send_text(telegram_sim, text=text, parse_mode=mode))
    assert status == 200, message
    assert (message["text"], message.get("entities", [])) == (plain, entities)


@pytest.mark.parametrize(
    ("mode", "text", "reason"),
    [
        ("HTML", "<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("HTML", "<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("HTML", "😀</b>", "Unexpected end tag at byte offset 4"),
        (
            "HTML",
            "<b><i>x</b></i>",
            'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
        ),
        ("HTML", "a < b", "Can't find end of the tag starting at byte offset 2"),
        (
            "MarkdownV2",
            "Hi.",
            "Character '.' is reserved and must be escaped with the preceding '\\'",
        ),
        ("MarkdownV2", "*open", "Can't find end of Bold entity at byte offset 0"),
        ("MarkdownV2", "`code", "Can't find end of Code entity at byte offset 0"),
        ("Markdown", "*open", "Can't find end of the entity starting at byte offset 0"),
    ],
)
def test_malformed_markup_is_refused_as_telegram_refuses_it(
    telegram_sim: TelegramControl, mode: str, text: str, reason: str
) -> None:
    assert bot_answer(send_text(telegram_sim, text=text, parse_mode=mode)) == (
        400,
        f"Bad Request: can't parse entities: {reason}",
    )


@pytest.mark.parametrize(
    ("entities", "ok"),
    [
        ([{"type": "bold", "offset": 2, "length": 5}], True),  # 😀 is 2 units: "hello"
        ([{"type": "bold", "offset": 1, "length": 2}], False),  # starts inside the emoji
        ([{"type": "bold", "offset": 2, "length": 6}], False),  # past the end
        ([{"type": "bold", "offset": -1, "length": 2}], False),
        ([{"type": "blink", "offset": 0, "length": 2}], False),
        ([{"type": "text_link", "offset": 0, "length": 2, "url": "javascript:x"}], False),
        ([{"type": "bold", "offset": "0", "length": 2}], False),
    ],
)
def test_entities_are_checked_in_utf16_units(
    telegram_sim: TelegramControl, entities: list[dict[str, Any]], ok: bool
) -> None:
    status, result = bot_answer(send_text(telegram_sim, text="😀hello", entities=entities))
    assert (status == 200) is ok, result
    if ok:
        assert telegram_sim.messages()[0]["spans"] == [["bold", "hello"]]
    else:
        assert result.startswith("Bad Request: can't parse entities: ")


def test_replies(telegram_sim: TelegramControl) -> None:
    first = bot_answer(send_text(telegram_sim))[1]["message_id"]
    reply = bot_answer(send_text(telegram_sim, reply_parameters={"message_id": first}))[1]
    assert reply["reply_to_message"]["message_id"] == first
    missing = {"message_id": 999999}
    assert bot_answer(send_text(telegram_sim, reply_parameters=missing)) == (
        400,
        "Bad Request: message to be replied not found",
    )
    lenient = {**missing, "allow_sending_without_reply": True}
    assert bot_answer(send_text(telegram_sim, reply_parameters=lenient))[0] == 200
    # Message ids are per chat: this channel's message is no message of another chat.
    elsewhere = send_text(telegram_sim, PRIVATE_CHANNEL, reply_parameters={"message_id": first})
    assert bot_answer(elsewhere)[0] == 400


def test_message_ids_increase_per_chat_and_survive_a_reset(telegram_sim: TelegramControl) -> None:
    public = [bot_answer(send_text(telegram_sim))[1]["message_id"] for _ in range(3)]
    private = bot_answer(send_text(telegram_sim, PRIVATE_CHANNEL))[1]["message_id"]
    assert public == sorted(set(public))
    assert private < public[-1]
    telegram_sim.reset()
    assert bot_answer(send_text(telegram_sim))[1]["message_id"] > public[-1]


def test_link_previews(telegram_sim: TelegramControl) -> None:
    send_text(telegram_sim, link_preview_options={"is_disabled": True})
    send_text(telegram_sim, disable_web_page_preview=True)
    send_text(telegram_sim)
    previews = [m["link_preview_options"] for m in telegram_sim.messages()]
    assert previews == [{"is_disabled": True}, {"is_disabled": True}, None]


# ---- media ----


def test_a_photo_with_a_caption(telegram_sim: TelegramControl) -> None:
    data = {"chat_id": "@herald_news", "caption": "<i>c</i>", "parse_mode": "HTML"}
    files = {"photo": ("p.png", image_bytes(30, 20), "image/png")}
    status, message = bot_answer(telegram_sim.call("sendPhoto", data=data, files=files))
    assert status == 200
    assert (message["caption"], message["caption_entities"]) == (
        "c",
        [{"type": "italic", "offset": 0, "length": 1}],
    )
    assert (message["photo"][0]["width"], message["photo"][0]["height"]) == (30, 20)


@pytest.mark.parametrize(
    ("files", "fields", "status", "description"),
    [
        ({}, {}, 400, "Bad Request: there is no photo in the request"),
        (
            {},
            {"photo": "https://a.example/p.png"},
            400,
            "Bad Request: wrong file identifier/HTTP URL specified",
        ),
        ({"photo": ("p.png", b"", "image/png")}, {}, 400, "Bad Request: file must be non-empty"),
        (
            {"photo": ("p.png", b"not an image", "image/png")},
            {},
            400,
            "Bad Request: IMAGE_PROCESS_FAILED",
        ),
        (
            {"photo": ("p.png", image_bytes(1, 30), "image/png")},
            {},
            400,
            "Bad Request: PHOTO_INVALID_DIMENSIONS",
        ),
        (
            {"photo": ("p.png", image_bytes(), "image/png")},
            {"caption": "x" * 1025},
            400,
            "Bad Request: message caption is too long",
        ),
        ({"pic": ("p.png", image_bytes(), "image/png")}, {"photo": "attach://pic"}, 200, None),
    ],
)
def test_photo_rules(
    telegram_sim: TelegramControl,
    files: dict[str, Any],
    fields: dict[str, str],
    status: int,
    description: str | None,
) -> None:
    data = {"chat_id": str(PUBLIC_CHANNEL), **fields}
    parts = files or {"other": ("o", b"o")}  # multipart still, without a photo part
    code, result = bot_answer(telegram_sim.call("sendPhoto", data=data, files=parts))
    assert code == status, result
    if description is not None:
        assert result == description


def test_upload_size_limits(telegram_sim: TelegramControl) -> None:
    telegram_sim.configure(photo_max_bytes=200, file_max_bytes=300)
    target = {"chat_id": str(PUBLIC_CHANNEL)}
    big_photo = {"photo": ("p.bmp", image_bytes(40, 40, "BMP"), "image/bmp")}
    too_big = (413, "Request Entity Too Large")
    assert bot_answer(telegram_sim.call("sendPhoto", data=target, files=big_photo)) == too_big
    video = {"video": ("v.mp4", b"v" * 301, "video/mp4")}
    assert bot_answer(telegram_sim.call("sendVideo", data=target, files=video)) == too_big
    video = {"video": ("v.mp4", b"v" * 300, "video/mp4")}
    fields = {"chat_id": str(PUBLIC_CHANNEL), "width": "640", "duration": "3"}
    status, message = bot_answer(telegram_sim.call("sendVideo", data=fields, files=video))
    assert (status, message["video"]["width"], message["video"]["duration"]) == (200, 640, 3)


def test_an_album(telegram_sim: TelegramControl) -> None:
    items = [
        {"type": "photo", "media": "attach://f0", "caption": "*one*", "parse_mode": "MarkdownV2"},
        {"type": "video", "media": "attach://v", "width": 320},
        {"type": "photo", "media": "attach://f1"},
    ]
    files = {**photo_parts(image_bytes(), image_bytes(9, 9)), "v": ("v.mp4", b"vid", "video/mp4")}
    missing = '{"message_id": 999999}'
    assert bot_answer(send_album(telegram_sim, items, files, reply_parameters=missing))[0] == 400
    status, messages = bot_answer(send_album(telegram_sim, items, files))
    assert status == 200
    first = messages[0]["message_id"]
    assert [m["message_id"] for m in messages] == [first, first + 1, first + 2]
    assert len({m["media_group_id"] for m in messages}) == 1
    assert ("caption" in messages[0], "caption" in messages[1]) == (True, False)
    assert messages[1]["video"]["width"] == 320
    records = telegram_sim.messages()
    assert [r["caption"] for r in records] == ["one", None, None]
    assert telegram_sim.stats()["albums"] == 1


@pytest.mark.parametrize(
    ("items", "description"),
    [
        (
            [{"type": "photo", "media": "attach://f0"}],
            "Bad Request: media group must include 2-10 items",
        ),
        (
            [{"type": "photo", "media": "attach://f0"}] * 11,
            "Bad Request: too much messages to send as an album",
        ),
        (
            [{"type": "photo", "media": "attach://f0"}, {"type": "photo", "media": "attach://zz"}],
            "Bad Request: can't parse InputMedia: media not found",
        ),
        (
            [
                {"type": "photo", "media": "attach://f0"},
                {"type": "photo", "media": "https://a.example/p"},
            ],
            "Bad Request: wrong file identifier/HTTP URL specified",
        ),
        (
            [
                {"type": "photo", "media": "attach://f0"},
                {"type": "document", "media": "attach://f0"},
            ],
            "Bad Request: can't parse InputMedia: the simulator takes photo and video",
        ),
        (
            [
                {"type": "photo", "media": "attach://f0", "caption": "x" * 1025},
                {"type": "photo", "media": "attach://f0"},
            ],
            "Bad Request: message caption is too long",
        ),
    ],
)
def test_album_rules(
    telegram_sim: TelegramControl, items: list[dict[str, Any]], description: str
) -> None:
    assert bot_answer(send_album(telegram_sim, items, photo_parts(image_bytes()))) == (
        400,
        description,
    )
    assert telegram_sim.messages() == []


def test_an_album_needs_its_media_parameter(telegram_sim: TelegramControl) -> None:
    response = telegram_sim.call("sendMediaGroup", json={"chat_id": PUBLIC_CHANNEL})
    assert bot_answer(response) == (400, 'Bad Request: parameter "media" is required')
