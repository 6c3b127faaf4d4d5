"""TelegramConnector.publish against the Telegram simulator over real HTTP: what arrives."""

from __future__ import annotations

import hashlib

import pytest

from herald.platforms.base import MediaItem, Published, RejectedError
from telegram_support import (
    GROUP,
    OLD_GROUP,
    PRIVATE_CHANNEL,
    PRIVATE_CHAT,
    PUBLIC_CHANNEL,
    SUPERGROUP,
    VIDEO_BYTES,
    TelegramControl,
    image_bytes,
    image_item,
    publish,
    telegram_request,
    video_item,
)


def test_publora_markdown_arrives_as_entities(telegram_sim: TelegramControl) -> None:
    text = "**Launch** day: _finally_ `v2` is out, [notes](https://herald.example/v2)\n> quoted"
    published = publish(telegram_request(telegram_sim.base_url, text=text))
    [message] = telegram_sim.messages()
    assert message["method"] == "sendMessage"
    assert message["text"] == "Launch day: finally v2 is out, notes\nquoted"
    assert message["parse_mode"] is None
    assert message["spans"] == [
        ["bold", "Launch"],
        ["italic", "finally"],
        ["code", "v2"],
        ["text_link", "notes"],
        ["blockquote", "quoted"],
    ]
    link = next(e for e in message["entities"] if e["type"] == "text_link")
    assert link["url"] == "https://herald.example/v2"
    assert published == Published(
        str(message["message_id"]), f"https://t.me/herald_news/{message['message_id']}"
    )


def test_entity_offsets_count_utf16_code_units(telegram_sim: TelegramControl) -> None:
    # 👋🏽 is two code points outside the BMP: four UTF-16 units, so "Hello" starts at 5.
    publish(telegram_request(telegram_sim.base_url, text="\U0001f44b\U0001f3fd **Hello** world"))
    [message] = telegram_sim.messages()
    assert message["entities"] == [{"type": "bold", "offset": 5, "length": 5}]
    assert message["spans"] == [["bold", "Hello"]]


def test_a_code_block_keeps_its_language(telegram_sim: TelegramControl) -> None:
    publish(
        telegram_request(telegram_sim.base_url, text="Try:\n```python\nprint('*not bold*')\n```")
    )
    [message] = telegram_sim.messages()
    assert message["text"] == "Try:\nprint('*not bold*')"
    pre = {"type": "pre", "offset": 5, "length": 19, "language": "python"}
    assert message["entities"] == [pre]


@pytest.mark.parametrize(
    ("mode", "text", "plain", "spans"),
    [
        ("HTML", "<b>Bold</b> &amp; <i>it</i>", "Bold & it", [["bold", "Bold"], ["italic", "it"]]),
        ("MarkdownV2", "*Bold* and _it_\\!", "Bold and it!", [["bold", "Bold"], ["italic", "it"]]),
    ],
)
def test_a_parse_mode_sends_the_text_as_written(
    telegram_sim: TelegramControl, mode: str, text: str, plain: str, spans: list[list[str]]
) -> None:
    publish(telegram_request(telegram_sim.base_url, text=text, settings={"parseMode": mode}))
    [message] = telegram_sim.messages()
    assert (message["parse_mode"], message["text"], message["spans"]) == (mode, plain, spans)


def test_markup_telegram_cannot_parse_is_rejected_with_its_reason(
    telegram_sim: TelegramControl,
) -> None:
    request = telegram_request(
        telegram_sim.base_url, text="<b>open", settings={"parseMode": "HTML"}
    )
    with pytest.raises(RejectedError) as caught:
        publish(request)
    assert caught.value.message == (
        "Telegram rejected the message: Bad Request: can't parse entities: "
        'Can\'t find end tag corresponding to start tag "b"'
    )
    assert telegram_sim.messages() == []


@pytest.mark.parametrize(("setting", "expected"), [(True, {"is_disabled": True}), (False, None)])
def test_disable_web_page_preview(
    telegram_sim: TelegramControl, setting: bool, expected: dict[str, bool] | None
) -> None:
    settings = {"disableWebPagePreview": setting}
    publish(
        telegram_request(telegram_sim.base_url, text="See https://x.example", settings=settings)
    )
    assert telegram_sim.messages()[0]["link_preview_options"] == expected


def test_one_photo_is_uploaded_with_its_caption(telegram_sim: TelegramControl) -> None:
    data = image_bytes(40, 30)
    request = telegram_request(telegram_sim.base_url, text="**Look**", media=[image_item(data)])
    published = publish(request)
    [message] = telegram_sim.messages()
    assert (message["method"], message["caption"], message["spans"]) == (
        "sendPhoto",
        "Look",
        [["bold", "Look"]],
    )
    media = message["media"]
    assert (media["type"], media["width"], media["height"]) == ("photo", 40, 30)
    assert (media["size"], media["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert media["filename"] == "photo.png"
    assert published.external_id == str(message["message_id"])


def test_one_video_is_uploaded(telegram_sim: TelegramControl) -> None:
    publish(telegram_request(telegram_sim.base_url, text="", media=[video_item()]))
    [message] = telegram_sim.messages()
    assert (message["method"], message["caption"]) == ("sendVideo", None)
    media = message["media"]
    assert (media["type"], media["content_type"], media["size"]) == (
        "video",
        "video/mp4",
        len(VIDEO_BYTES),
    )
    assert media["supports_streaming"] is True


@pytest.mark.parametrize(
    ("chat", "url"),
    [
        (PUBLIC_CHANNEL, "https://t.me/herald_news/{id}"),
        (PRIVATE_CHANNEL, "https://t.me/c/2222222222/{id}"),
    ],
)
def test_an_album_is_one_media_group_with_the_caption_on_its_first_item(
    telegram_sim: TelegramControl, chat: int, url: str
) -> None:
    media = [image_item(image_bytes(10, 10)), image_item(image_bytes(20, 10))]
    request = telegram_request(telegram_sim.base_url, chat, text="Two _views_", media=media)
    published = publish(request)
    first, second = telegram_sim.messages()
    stats = telegram_sim.stats()
    assert (stats["albums"], stats["requests"], stats["calls"]) == (1, 1, {"sendmediagroup": 1})
    assert first["media_group_id"] == second["media_group_id"] is not None
    assert (first["caption"], first["spans"]) == ("Two views", [["italic", "views"]])
    assert (second["caption"], second["entities"]) == (None, [])
    assert [first["media"]["width"], second["media"]["width"]] == [10, 20]
    assert published == Published(str(first["message_id"]), url.format(id=first["message_id"]))


def test_photos_and_videos_mix_in_an_album(telegram_sim: TelegramControl) -> None:
    publish(
        telegram_request(telegram_sim.base_url, media=[image_item(), video_item(), image_item()])
    )
    assert [m["media"]["type"] for m in telegram_sim.messages()] == ["photo", "video", "photo"]


def test_thread_parts_reply_to_the_previous_part(telegram_sim: TelegramControl) -> None:
    first = publish(telegram_request(telegram_sim.base_url, text="Part one", part_count=3))
    second = publish(
        telegram_request(
            telegram_sim.base_url,
            text="Part two",
            part_index=1,
            part_count=3,
            reply_to_id=first.external_id,
            root_id=first.external_id,
        )
    )
    publish(
        telegram_request(
            telegram_sim.base_url,
            text="Part three",
            part_index=2,
            part_count=3,
            reply_to_id=second.external_id,
            root_id=first.external_id,
        )
    )
    replies = [(m["text"], m["reply_to"]) for m in telegram_sim.messages()]
    assert replies == [
        ("Part one", None),
        ("Part two", int(first.external_id)),
        ("Part three", int(second.external_id)),
    ]


def test_a_reply_to_a_missing_message_is_rejected(telegram_sim: TelegramControl) -> None:
    with pytest.raises(RejectedError, match="message to be replied not found"):
        publish(telegram_request(telegram_sim.base_url, reply_to_id="424242"))


def test_a_caption_over_1024_is_rejected_before_sending(telegram_sim: TelegramControl) -> None:
    request = telegram_request(telegram_sim.base_url, text="x" * 1025, media=[image_item()])
    with pytest.raises(RejectedError, match=r"at most 1,024 characters .* has 1,025"):
        publish(request)
    assert telegram_sim.stats()["requests"] == 0
    publish(telegram_request(telegram_sim.base_url, text="x" * 1024, media=[image_item()]))
    assert telegram_sim.messages()[0]["caption"] == "x" * 1024


def test_the_text_limit_counts_utf16_code_units(telegram_sim: TelegramControl) -> None:
    emoji = "\U0001f600"  # one code point, two UTF-16 code units
    publish(telegram_request(telegram_sim.base_url, text=emoji * 2048))
    with pytest.raises(RejectedError, match=r"at most 4,096 characters .* has 4,098"):
        publish(telegram_request(telegram_sim.base_url, text=emoji * 2049))
    assert telegram_sim.stats()["requests"] == 1


def test_the_limit_counts_the_text_after_formatting(telegram_sim: TelegramControl) -> None:
    publish(telegram_request(telegram_sim.base_url, text="**" + "y" * 4096 + "**"))
    assert len(telegram_sim.messages()[0]["text"]) == 4096


@pytest.mark.parametrize(
    ("chat", "url"),
    [
        (SUPERGROUP, "https://t.me/c/5555555555/{id}"),
        (GROUP, None),
        (PRIVATE_CHAT, None),
    ],
)
def test_message_urls_by_kind_of_chat(
    telegram_sim: TelegramControl, chat: int, url: str | None
) -> None:
    published = publish(telegram_request(telegram_sim.base_url, chat))
    expected = url.format(id=published.external_id) if url else None
    assert published.url == expected


def test_a_message_to_an_upgraded_group_goes_to_its_supergroup(
    telegram_sim: TelegramControl,
) -> None:
    published = publish(telegram_request(telegram_sim.base_url, OLD_GROUP, text="Still here"))
    [message] = telegram_sim.messages()
    assert (message["chat_id"], message["text"]) == (SUPERGROUP, "Still here")
    assert published.url == f"https://t.me/c/5555555555/{message['message_id']}"


def test_message_ids_increase_per_chat(telegram_sim: TelegramControl) -> None:
    ids = [int(publish(telegram_request(telegram_sim.base_url)).external_id) for _ in range(3)]
    assert ids == sorted(set(ids))


def test_more_than_ten_files_are_rejected(telegram_sim: TelegramControl) -> None:
    with pytest.raises(RejectedError, match="at most 10 files"):
        publish(telegram_request(telegram_sim.base_url, media=[image_item() for _ in range(11)]))


def test_an_empty_message_is_rejected(telegram_sim: TelegramControl) -> None:
    with pytest.raises(RejectedError, match="empty message"):
        publish(telegram_request(telegram_sim.base_url, text="  \n"))


def test_media_without_bytes_is_left_to_telegram_to_fetch(telegram_sim: TelegramControl) -> None:
    # The simulator is offline, so it refuses the URL as Telegram refuses one it cannot fetch.
    item = MediaItem("image", "image/png", "https://media.example/a.png")
    with pytest.raises(RejectedError, match="wrong file identifier/HTTP URL specified"):
        publish(telegram_request(telegram_sim.base_url, media=[item]))
