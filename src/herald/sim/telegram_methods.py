"""The Bot API methods the simulator answers: queries return a result, sends return drafts.

A send method only validates: it returns the messages it would create, and the route decides
(rate limit, faults) whether they are stored. Rules and descriptions follow the Bot API
(https://core.telegram.org/bots/api#available-methods); where the wording of an error is not
documented, the simulator's own is written in Telegram's style."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable
from typing import Any

from PIL import Image, UnidentifiedImageError

from herald.sim.telegram_config import SimBot, SimChat, SimMember
from herald.sim.telegram_markup import MarkupError, utf16_length, validate_entities
from herald.sim.telegram_params import BotApiError, BotParams, UploadedFile, bad_request
from herald.sim.telegram_parse_modes import parse
from herald.sim.telegram_state import (
    MessageDraft,
    TelegramSim,
    chat_wire,
    member_of,
    user_wire,
)

TEXT_LIMIT = 4096  # UTF-16 code units after entity parsing
CAPTION_LIMIT = 1024
ALBUM_SIZES = range(2, 11)
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_invite_users",
    "can_change_info",
    "can_edit_messages",
)


# ---- queries ----


def get_me(sim: TelegramSim, bot: SimBot, params: BotParams) -> Any:
    return {
        **user_wire(bot),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def get_chat(sim: TelegramSim, bot: SimBot, params: BotParams) -> Any:
    chat = sim.chat(bot, params.raw("chat_id"))
    return {**chat_wire(chat), "accent_color_id": 0, "max_reaction_count": 11}


def get_chat_member(sim: TelegramSim, bot: SimBot, params: BotParams) -> Any:
    chat = sim.chat(bot, params.raw("chat_id"))
    user_id = params.integer("user_id")
    if user_id is None:
        raise bad_request("invalid user_id specified")
    known = {other.id: other for other in sim.config.bots}
    if user_id not in known and user_id not in chat.members:
        raise bad_request("user not found")
    asking = member_of(chat, bot.id)
    if chat.type == "channel" and user_id != bot.id and asking.status != "administrator":
        raise bad_request("member list is inaccessible")
    user = user_wire(known[user_id]) if user_id in known else _person(user_id)
    return _member_wire(chat, user, member_of(chat, user_id))


def _person(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}


def _member_wire(chat: SimChat, user: dict[str, Any], member: SimMember) -> dict[str, Any]:
    wire: dict[str, Any] = {"user": user, "status": member.status}
    if member.status == "administrator":
        wire.update({"can_be_edited": False, "is_anonymous": False})
        wire.update(dict.fromkeys(_ADMIN_RIGHTS, True))
        if chat.type == "channel":
            wire["can_post_messages"] = member.can_post_messages
    elif member.status == "restricted":
        wire.update({"is_member": True, "can_send_messages": member.can_send_messages})
        wire["until_date"] = 0
    elif member.status == "kicked":
        wire["until_date"] = 0
    return wire


QUERIES: dict[str, Callable[[TelegramSim, SimBot, BotParams], Any]] = {
    "getme": get_me,
    "getchat": get_chat,
    "getchatmember": get_chat_member,
}


# ---- sends ----


def _target(
    sim: TelegramSim, bot: SimBot, params: BotParams, what: str
) -> tuple[SimChat, int | None]:
    """The chat, checked for the bot's rights, and the message replied to, checked to exist."""
    chat = sim.chat(bot, params.raw("chat_id"))
    sim.check_can_send(bot, chat, what)
    reply = params.json_value("reply_parameters", dict) or {}
    message_id = reply.get("message_id", params.integer("reply_to_message_id"))
    if message_id is None:
        return chat, None
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise bad_request("can't parse reply parameters JSON object")
    try:
        sim.replied(chat, message_id)
    except BotApiError:
        if reply.get("allow_sending_without_reply") is True:
            return chat, None
        raise
    return chat, message_id


def _formatted(
    text: object, parse_mode: object, entities: object
) -> tuple[str, list[dict[str, Any]], str | None]:
    """Text, entities and the parse mode used: the parse mode wins over explicit entities."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise bad_request("text must be a string")
    try:
        if isinstance(parse_mode, str) and parse_mode:
            plain, found = parse(text, parse_mode)
            return plain, found, parse_mode
        return text, validate_entities(text, entities or []), None
    except MarkupError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    except ValueError:
        raise bad_request("unsupported parse_mode") from None


def _caption(
    text: object, parse_mode: object, entities: object
) -> tuple[str | None, list[dict[str, Any]], str | None]:
    caption, found, mode = _formatted(text, parse_mode, entities)
    if utf16_length(caption) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return caption or None, found if caption else [], mode


def send_message(sim: TelegramSim, bot: SimBot, params: BotParams) -> list[MessageDraft]:
    chat, reply = _target(sim, bot, params, "text messages")
    text, entities, mode = _formatted(
        params.text("text"), params.text("parse_mode"), params.json_value("entities", list)
    )
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_length(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    preview = params.json_value("link_preview_options", dict)
    if preview is None and params.flag("disable_web_page_preview"):  # the older parameter
        preview = {"is_disabled": True}
    draft = MessageDraft(chat, bot, "sendMessage", text=text, entities=entities)
    draft.parse_mode, draft.link_preview_options, draft.reply_to = mode, preview, reply
    return [draft]


def _upload(params: BotParams, name: str) -> UploadedFile:
    upload = params.files.get(name)
    reference = params.text(name)
    if upload is None and reference is not None and reference.startswith("attach://"):
        upload = params.files.get(reference.removeprefix("attach://"))
    if upload is not None:
        return upload
    if reference:
        # The simulator is offline: it can neither fetch URLs nor know file ids.
        raise bad_request("wrong file identifier/HTTP URL specified")
    raise bad_request(f"there is no {name} in the request")


def _photo(sim: TelegramSim, upload: UploadedFile) -> dict[str, Any]:
    _check_size(upload, sim.config.photo_max_bytes)
    try:
        with warnings.catch_warnings():
            # A huge image is Pillow's "decompression bomb" warning; Telegram just refuses it.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(upload.data)) as image:
                width, height = image.size
    except (
        UnidentifiedImageError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
        OSError,
    ):
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    if width + height > 10000 or max(width, height) > 20 * min(width, height):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return {**_file(upload, "photo"), "width": width, "height": height}


def _video(
    sim: TelegramSim, upload: UploadedFile, sizes: dict[str, object], streams: bool
) -> dict[str, Any]:
    _check_size(upload, sim.config.file_max_bytes)
    named = {name: sizes.get(name) for name in ("width", "height", "duration")}
    # Telegram reads these from the file when the bot does not say; the simulator does not.
    known = {
        name: n if isinstance(n, int) and not isinstance(n, bool) else 0
        for name, n in named.items()
    }
    return {**_file(upload, "video"), **known, "supports_streaming": streams}


def _check_size(upload: UploadedFile, limit: int) -> None:
    if not upload.data:
        raise bad_request("file must be non-empty")
    if len(upload.data) > limit:
        raise BotApiError(413, "Request Entity Too Large")


def _file(upload: UploadedFile, kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": len(upload.data),
        "sha256": hashlib.sha256(upload.data).hexdigest(),
    }


def _send_one(kind: str, what: str) -> Callable[[TelegramSim, SimBot, BotParams], Any]:
    def send(sim: TelegramSim, bot: SimBot, params: BotParams) -> list[MessageDraft]:
        chat, reply = _target(sim, bot, params, what)
        caption, entities, mode = _caption(
            params.text("caption"),
            params.text("parse_mode"),
            params.json_value("caption_entities", list),
        )
        upload = _upload(params, kind)
        if kind == "photo":
            media = _photo(sim, upload)
        else:
            sizes: dict[str, object] = {
                n: params.integer(n) for n in ("width", "height", "duration")
            }
            media = _video(sim, upload, sizes, params.flag("supports_streaming"))
        method = "sendPhoto" if kind == "photo" else "sendVideo"
        draft = MessageDraft(chat, bot, method, caption=caption, entities=entities, media=media)
        draft.parse_mode, draft.reply_to = mode, reply
        return [draft]

    return send


def send_media_group(sim: TelegramSim, bot: SimBot, params: BotParams) -> list[MessageDraft]:
    chat, reply = _target(sim, bot, params, "photos and videos")
    items = params.json_value("media", list)
    if items is None:
        raise bad_request('parameter "media" is required')
    if len(items) > ALBUM_SIZES.stop - 1:
        raise bad_request("too much messages to send as an album")
    if len(items) not in ALBUM_SIZES:
        raise bad_request("media group must include 2-10 items")
    drafts = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in ("photo", "video"):
            # Documents and audio make albums of their own; Herald sends neither.
            raise bad_request("can't parse InputMedia: the simulator takes photo and video")
        caption, entities, mode = _caption(
            item.get("caption"), item.get("parse_mode"), item.get("caption_entities")
        )
        upload = _album_upload(params, item.get("media"))
        if item["type"] == "photo":
            media = _photo(sim, upload)
        else:
            media = _video(sim, upload, item, item.get("supports_streaming") is True)
        draft = MessageDraft(chat, bot, "sendMediaGroup", caption=caption, entities=entities)
        draft.parse_mode, draft.media, draft.reply_to = mode, media, reply
        drafts.append(draft)
    return drafts


def _album_upload(params: BotParams, reference: object) -> UploadedFile:
    if not isinstance(reference, str) or not reference:
        raise bad_request("can't parse InputMedia: media not found")
    if not reference.startswith("attach://"):
        raise bad_request("wrong file identifier/HTTP URL specified")
    upload = params.files.get(reference.removeprefix("attach://"))
    if upload is None:
        raise bad_request("can't parse InputMedia: media not found")
    return upload


SENDS: dict[str, Callable[[TelegramSim, SimBot, BotParams], list[MessageDraft]]] = {
    "sendmessage": send_message,
    "sendphoto": _send_one("photo", "photos"),
    "sendvideo": _send_one("video", "videos"),
    "sendmediagroup": send_media_group,
}
