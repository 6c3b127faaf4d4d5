"""Which Bot API method publishes a thread part, and with which parameters.

    no media       sendMessage {chat_id, text, entities | parse_mode, link_preview_options?}
    one image      sendPhoto   {chat_id, photo: <upload>, caption?, caption_entities | parse_mode}
    one video      sendVideo   {chat_id, video: <upload>, supports_streaming, caption?, ...}
    2-10 items     sendMediaGroup {chat_id, media: [{"type", "media": "attach://fileN",
                   caption + caption_entities | parse_mode on the first item only}]} + uploads
All of them take `reply_parameters: {"message_id": <previous part>}` for thread parts after the
first. Files are uploaded from Herald's media store, never fetched by Telegram from a URL, since a
self-hosted store is often not reachable from Telegram.

Text limits (https://core.telegram.org/bots/api#sendmessage): a message's text is 1-4,096 and a
caption 0-1,024 characters after entity parsing, counted in UTF-16 code units. When Herald builds
the entities it knows that length exactly and refuses early; with a `parseMode` the text is the
owner's own markup and Telegram has the last word ("message is too long" comes back as a 400).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.platforms.base import MediaItem, PublishRequest, RejectedError
from herald.platforms.telegram.formatting import to_entities
from herald.platforms.telegram.multipart import Upload

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MAX_ALBUM = 10
PARSE_MODES = frozenset({"HTML", "MarkdownV2", "Markdown"})


@dataclass(frozen=True)
class ApiCall:
    method: str
    fields: dict[str, Any]
    uploads: tuple[Upload, ...] = ()


def build_call(request: PublishRequest, chat_id: int | str) -> ApiCall:
    fields: dict[str, Any] = {"chat_id": chat_id}
    if request.reply_to_id is not None:
        fields["reply_parameters"] = {"message_id": _message_id(request.reply_to_id)}
    media = list(request.media)
    parse_mode = _parse_mode(request.settings)
    if not media:
        fields.update(_text(request.text, parse_mode, "text", "entities", TEXT_LIMIT))
        if request.settings.get("disableWebPagePreview") is True:
            fields["link_preview_options"] = {"is_disabled": True}
        return ApiCall("sendMessage", fields)
    caption = _text(request.text, parse_mode, "caption", "caption_entities", CAPTION_LIMIT)
    if len(media) == 1:
        kind = _kind(media[0])
        reference, uploads = _attach(media[0], kind)
        # An upload fills the parameter itself (a file part named "photo"); a URL is its value.
        fields.update(caption if uploads else {kind: reference, **caption})
        if kind == "video":
            fields["supports_streaming"] = True
        method = "sendPhoto" if kind == "photo" else "sendVideo"
        return ApiCall(method, fields, uploads)
    if len(media) > MAX_ALBUM:
        raise RejectedError(
            f"Telegram albums hold at most {MAX_ALBUM} files; this post has {len(media)}"
        )
    items: list[dict[str, Any]] = []
    all_uploads: list[Upload] = []
    for index, item in enumerate(media):
        kind = _kind(item)
        reference, uploads = _attach(item, f"file{index}")
        entry: dict[str, Any] = {"type": kind, "media": reference}
        if kind == "video":
            entry["supports_streaming"] = True
        if index == 0:
            entry.update(caption)  # Telegram shows an album's caption when one item has it
        items.append(entry)
        all_uploads.extend(uploads)
    fields["media"] = items
    return ApiCall("sendMediaGroup", fields, tuple(all_uploads))


def _message_id(external_id: str) -> int:
    if not external_id.isascii() or not external_id.isdecimal():
        raise RejectedError(f"Cannot reply to Telegram message {external_id!r}: not a message id")
    return int(external_id)


def check_caption(text: str, settings: Mapping[str, Any]) -> None:
    """Raise RejectedError if `text` is too long to be a caption, as publishing it with media
    would. With a `parseMode` the length is Telegram's to judge, so nothing is raised."""
    _text(text, _parse_mode(settings), "caption", "caption_entities", CAPTION_LIMIT)


def _parse_mode(settings: Mapping[str, Any]) -> str | None:
    parse_mode = settings.get("parseMode")
    return parse_mode if isinstance(parse_mode, str) and parse_mode in PARSE_MODES else None


def _text(
    text: str, parse_mode: str | None, text_field: str, entities_field: str, limit: int
) -> dict[str, Any]:
    """The text (or caption) parameters. A caption may be empty; a message may not."""
    is_caption = text_field == "caption"
    if parse_mode is not None:
        if not text.strip():
            return _empty(is_caption)
        return {text_field: text, "parse_mode": parse_mode}
    formatted = to_entities(text)
    if not formatted.text.strip():
        return _empty(is_caption)
    if formatted.length > limit:
        what = "A caption (text with media)" if is_caption else "A text message"
        raise RejectedError(
            f"{what} on Telegram holds at most {limit:,} characters (UTF-16 code units, after "
            f"formatting); this one has {formatted.length:,}"
        )
    fields: dict[str, Any] = {text_field: formatted.text}
    if formatted.entities:
        fields[entities_field] = formatted.entities
    return fields


def _empty(is_caption: bool) -> dict[str, Any]:
    if is_caption:
        return {}
    raise RejectedError("Telegram cannot send an empty message: the post has no text or media")


def _kind(item: MediaItem) -> str:
    if item.kind == "image":
        return "photo"
    if item.kind == "video":
        return "video"
    raise RejectedError(f"Telegram cannot publish media of kind {item.kind!r}")


def _attach(item: MediaItem, part: str) -> tuple[str, tuple[Upload, ...]]:
    """The `media` reference of an item and the upload that carries its bytes."""
    if item.open is None:
        # Herald's engine always streams the bytes; a bare URL is Telegram's to fetch.
        return item.url, ()
    extension = mimetypes.guess_extension(item.content_type.split(";")[0].strip()) or ""
    upload = Upload(part, f"{part}{extension}", item.content_type, item.open)
    return f"attach://{part}", (upload,)
