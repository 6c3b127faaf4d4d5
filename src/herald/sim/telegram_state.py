"""Telegram simulator state: bots, chats and the messages sent to them, and who may send where."""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from herald.sim.faults import FaultInjector
from herald.sim.telegram_config import (
    SimBot,
    SimChat,
    SimMember,
    TelegramConfig,
    merge_telegram_config,
)
from herald.sim.telegram_markup import entity_text
from herald.sim.telegram_params import BotApiError, bad_request

_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,100}")
_CHAT_ID = re.compile(r"-?[0-9]{1,20}")
_PRESENT = frozenset({"creator", "administrator", "member", "restricted"})
# How Telegram names a chat type in its "Forbidden: ..." descriptions.
_CHAT_NOUN = {"channel": "channel", "supergroup": "supergroup", "group": "group"}


@dataclass
class MessageDraft:
    """A validated message, not yet stored: what a send method will create."""

    chat: SimChat
    bot: SimBot
    method: str
    text: str | None = None
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None
    link_preview_options: dict[str, Any] | None = None
    media: dict[str, Any] | None = None  # {"type", "filename", "content_type", "size", ...}
    reply_to: int | None = None


@dataclass
class SimMessage:
    draft: MessageDraft
    message_id: int
    date: int
    media_group_id: str | None

    def record(self) -> dict[str, Any]:
        """What the control API lists: everything a test may want to check."""
        draft = self.draft
        body = draft.text if draft.text is not None else draft.caption or ""
        return {
            "chat_id": draft.chat.id,
            "message_id": self.message_id,
            "bot_id": draft.bot.id,
            "method": draft.method,
            "date": self.date,
            "text": draft.text,
            "caption": draft.caption,
            "entities": draft.entities,
            # The text each entity covers, cut at UTF-16 offsets as a Telegram client cuts it.
            "spans": [[e["type"], entity_text(body, e)] for e in draft.entities],
            "parse_mode": draft.parse_mode,
            "link_preview_options": draft.link_preview_options,
            "media": draft.media,
            "reply_to": draft.reply_to,
            "media_group_id": self.media_group_id,
        }

    def wire(self, replied: SimMessage | None = None) -> dict[str, Any]:
        """The Bot API's Message object."""
        draft = self.draft
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": chat_wire(draft.chat),
        }
        if draft.chat.type == "channel":
            message["sender_chat"] = chat_wire(draft.chat)
        else:
            message["from"] = user_wire(draft.bot)
        if self.media_group_id is not None:
            message["media_group_id"] = self.media_group_id
        if replied is not None:
            message["reply_to_message"] = replied.wire()
        message.update(_content_wire(draft))
        return message


def _content_wire(draft: MessageDraft) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if draft.text is not None:
        content["text"] = draft.text
        if draft.entities:
            content["entities"] = draft.entities
        if draft.link_preview_options:
            content["link_preview_options"] = draft.link_preview_options
        return content
    media = draft.media or {}
    file = {
        "file_id": f"sim-{media.get('sha256', '')[:32]}",
        "file_unique_id": media.get("sha256", "")[:16],
        "file_size": media.get("size", 0),
        "width": media.get("width", 0),
        "height": media.get("height", 0),
    }
    if media.get("type") == "photo":
        content["photo"] = [file]
    else:
        content["video"] = {**file, "duration": media.get("duration", 0)}
        content["video"]["mime_type"] = media.get("content_type")
    if draft.caption:
        content["caption"] = draft.caption
        if draft.entities:
            content["caption_entities"] = draft.entities
    return content


def chat_wire(chat: SimChat) -> dict[str, Any]:
    wire: dict[str, Any] = {"id": chat.id, "type": chat.type}
    wire["first_name" if chat.type == "private" else "title"] = chat.title
    if chat.username:
        wire["username"] = chat.username
    return wire


def user_wire(bot: SimBot) -> dict[str, Any]:
    return {"id": bot.id, "is_bot": True, "first_name": bot.first_name, "username": bot.username}


class TelegramSim:
    """All simulator state. One event loop owns it: code between awaits runs alone."""

    def __init__(self, config: TelegramConfig) -> None:
        self.initial_config = config
        # Kept across resets, so a stale message id never names a new message.
        self.next_message_id: defaultdict[int, int] = defaultdict(lambda: 1)
        self.next_group_id = 13_000_000_000_000_000
        self.reset()

    def reset(self) -> None:
        self._apply(self.initial_config)
        self.injector = FaultInjector(self.config.behaviour.seed)
        self.messages: list[SimMessage] = []
        self.by_chat: defaultdict[int, dict[int, SimMessage]] = defaultdict(dict)
        self.recent: defaultdict[int, deque[float]] = defaultdict(deque)  # send times per chat
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.sends = self.albums = self.rate_limited = 0

    def configure(self, changes: object) -> None:
        config = merge_telegram_config(self.config, changes)
        if isinstance(changes, dict) and "seed" in changes:
            self.injector.reseed(config.behaviour.seed)
        self._apply(config)

    def _apply(self, config: TelegramConfig) -> None:
        self.config = config
        self.bots = {bot.token: bot for bot in config.bots}
        self.chats = {chat.id: chat for chat in config.chats}
        self.usernames = {chat.username.lower(): chat for chat in config.chats if chat.username}

    # ---- who is asking, and where ----

    def bot(self, token: str) -> SimBot:
        if not _TOKEN.fullmatch(token):
            raise BotApiError(404, "Not Found")  # Telegram's answer to a malformed token
        bot = self.bots.get(token)
        if bot is None:
            raise BotApiError(401, "Unauthorized")
        return bot

    def chat(self, bot: SimBot, chat_id: object) -> SimChat:
        """The chat a `chat_id` names, as `bot` can see it: public chats by anyone, others
        by bots that are or were in it (so a kicked bot hears it was kicked); a basic group
        upgraded to a supergroup answers with its new id."""
        chat = self._find(chat_id)
        if chat is not None and chat.migrated_to is not None:
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat is None or not (chat.username or bot.id in chat.members):
            raise bad_request("chat not found")
        return chat

    def _find(self, chat_id: object) -> SimChat | None:
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            return self.chats.get(chat_id)
        if not isinstance(chat_id, str) or not chat_id:
            raise bad_request("chat_id is empty")
        if chat_id.startswith("@"):
            return self.usernames.get(chat_id[1:].lower())
        return self.chats.get(int(chat_id)) if _CHAT_ID.fullmatch(chat_id) else None

    def check_can_send(self, bot: SimBot, chat: SimChat, what: str) -> None:
        """Telegram's answers to a bot that may not write to the chat."""
        member = member_of(chat, bot.id)
        noun = _CHAT_NOUN.get(chat.type)
        if noun is None:  # private chats: the user must have started the bot
            if member.status == "kicked":
                raise BotApiError(403, "Forbidden: bot was blocked by the user")
            if member.status not in _PRESENT:
                raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return
        if member.status == "kicked":
            raise BotApiError(403, f"Forbidden: bot was kicked from the {noun} chat")
        if member.status not in _PRESENT:
            raise BotApiError(403, f"Forbidden: bot is not a member of the {noun} chat")
        if chat.type == "channel":
            if member.status != "creator" and not (
                member.status == "administrator" and member.can_post_messages
            ):
                raise bad_request("need administrator rights in the channel chat")
        elif member.status == "restricted" and not member.can_send_messages:
            raise bad_request(f"not enough rights to send {what} to the chat")

    def replied(self, chat: SimChat, message_id: int | None) -> SimMessage | None:
        if message_id is None:
            return None
        message = self.by_chat[chat.id].get(message_id)
        if message is None:
            raise bad_request("message to be replied not found")
        return message

    def check_rate(self, chat: SimChat, count: int) -> None:
        """Telegram's flood control: at most `chat_messages_per_minute` messages per chat."""
        limit = self.config.chat_messages_per_minute
        if limit is None:
            return
        now, recent = time.monotonic(), self.recent[chat.id]
        while recent and now - recent[0] >= 60:
            recent.popleft()
        if len(recent) + count > limit:
            self.rate_limited += 1
            wait = max(1, math.ceil(60 - (now - recent[0]))) if recent else 60
            raise too_many_requests(wait)

    # ---- what was sent ----

    def store(self, drafts: list[MessageDraft]) -> list[SimMessage]:
        group_id = None
        if len(drafts) > 1:
            group_id = str(self.next_group_id)
            self.next_group_id += 1
            self.albums += 1
        stored, now = [], int(time.time())
        for draft in drafts:
            chat_id = draft.chat.id
            message = SimMessage(draft, self.next_message_id[chat_id], now, group_id)
            self.next_message_id[chat_id] += 1
            self.by_chat[chat_id][message.message_id] = message
            self.recent[chat_id].append(time.monotonic())
            self.messages.append(message)
            stored.append(message)
        return stored

    def listing(self, chat_id: str | None) -> list[dict[str, Any]]:
        if chat_id is None:
            return [message.record() for message in self.messages]
        try:
            chat = self._find(chat_id)
        except BotApiError:
            chat = None
        found = self.by_chat.get(chat.id, {}) if chat is not None else {}
        return [message.record() for message in found.values()]

    def stats_wire(self) -> dict[str, Any]:
        return {
            "requests": self.sends,
            "calls": dict(self.calls),
            "messages": len(self.messages),
            "albums": self.albums,
            "rate_limited": self.rate_limited,
            "faults": dict(self.injector.counts),
        }


def member_of(chat: SimChat, user_id: int) -> SimMember:
    return chat.members.get(user_id) or SimMember("left", False, False)


def too_many_requests(retry_after: int) -> BotApiError:
    return BotApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )
