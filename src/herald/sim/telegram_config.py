"""Telegram simulator config: its bots, its chats and who belongs to which, limits and faults."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from herald.sim.faults import ConfigError, SandboxConfig, config_wire, merge_config

CHAT_TYPES = frozenset({"channel", "supergroup", "group", "private"})
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
# The sandbox's fault settings mean the same here; its token and idempotency keys do not exist
# in the Bot API (the token is in the URL, and there are no keys).
_BEHAVIOUR_FIELDS = frozenset(
    {"latency_ms", "latency_jitter_ms", "retry_after_s", "hang_s", "seed", "faults"}
)
_USER_ID = re.compile(r"-?[0-9]{1,20}")
_LIMIT_FIELDS = ("photo_max_bytes", "file_max_bytes", "chat_messages_per_minute")


@dataclass(frozen=True)
class SimBot:
    token: str  # "<id>:<secret>", as @BotFather issues it
    id: int
    username: str  # without "@"
    first_name: str = "Herald Bot"


@dataclass(frozen=True)
class SimMember:
    status: str  # one of MEMBER_STATUSES
    can_post_messages: bool = True  # administrators of channels: may they post?
    can_send_messages: bool = True  # restricted members of groups: may they write?


@dataclass(frozen=True)
class SimChat:
    id: int  # channels and supergroups: -100...; basic groups: small negative; private: > 0
    type: str  # one of CHAT_TYPES
    title: str = ""  # private chats: the user's first name
    username: str | None = None  # public chats only, without "@"
    members: Mapping[int, SimMember] = field(default_factory=dict)  # by user (bot) id
    migrated_to: int | None = None  # a basic group upgraded to the supergroup with this id


@dataclass(frozen=True)
class TelegramConfig:
    bots: tuple[SimBot, ...] = ()
    chats: tuple[SimChat, ...] = ()
    photo_max_bytes: int = 10 * 1024 * 1024  # Bot API uploads: photos 10 MB,
    file_max_bytes: int = 50 * 1024 * 1024  # other files 50 MB
    chat_messages_per_minute: int | None = None  # Telegram's group flood limit is about 20
    # Latency, hangs, Retry-After and fault probabilities, as the sandbox takes them.
    behaviour: SandboxConfig = field(default_factory=SandboxConfig)


# Not a secret: the simulator's own demo bot, which exists nowhere else.
DEMO_TOKEN = "123456789:AAHerald-demo-token-for-the-simulator"  # noqa: S105


def demo_config() -> TelegramConfig:
    """A bot that administers a public channel, for dry runs with `herald sim`."""
    bot = SimBot(DEMO_TOKEN, 123456789, "herald_demo_bot", "Herald Demo")
    channel = SimChat(
        -1001000000001,
        "channel",
        "Herald Demo",
        "herald_demo",
        {bot.id: SimMember("administrator")},
    )
    return TelegramConfig(bots=(bot,), chats=(channel,))


def config_to_wire(config: TelegramConfig) -> dict[str, Any]:
    behaviour = config_wire(config.behaviour)
    return {
        "bots": [bot_wire(bot) for bot in config.bots],
        "chats": [_chat_wire(chat) for chat in config.chats],
        **{name: getattr(config, name) for name in _LIMIT_FIELDS},
        **{name: value for name, value in behaviour.items() if name in _BEHAVIOUR_FIELDS},
    }


def bot_wire(bot: SimBot) -> dict[str, Any]:
    return {
        "token": bot.token,
        "id": bot.id,
        "username": bot.username,
        "first_name": bot.first_name,
    }


def _chat_wire(chat: SimChat) -> dict[str, Any]:
    members = {
        str(user_id): {
            "status": member.status,
            "can_post_messages": member.can_post_messages,
            "can_send_messages": member.can_send_messages,
        }
        for user_id, member in chat.members.items()
    }
    return {
        "id": chat.id,
        "type": chat.type,
        "title": chat.title,
        "username": chat.username,
        "members": members,
        "migrated_to": chat.migrated_to,
    }


def merge_telegram_config(config: TelegramConfig, changes: object) -> TelegramConfig:
    """`config` with the fields of a JSON object replaced; `bots` and `chats` are replaced whole,
    `faults` merges name by name."""
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    behaviour = {name: value for name, value in changes.items() if name in _BEHAVIOUR_FIELDS}
    updates: dict[str, Any] = {"behaviour": merge_config(config.behaviour, behaviour)}
    for name, value in changes.items():
        if name == "bots":
            updates["bots"] = _bots(value)
        elif name == "chats":
            updates["chats"] = _chats(value)
        elif name in _LIMIT_FIELDS:
            updates[name] = _limit(name, value)
        elif name not in _BEHAVIOUR_FIELDS:
            raise ConfigError(f"unknown config field {name!r}")
    return replace(config, **updates)


def _integer(value: object) -> int | None:
    # bool is an int subclass, but `true` is never an id or a size.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _limit(name: str, value: object) -> int | None:
    number = _integer(value)
    if name == "chat_messages_per_minute" and value is None:
        return None
    if number is None or number < 1:
        raise ConfigError(f"{name} must be a positive whole number")
    return number


def _text(where: str, value: object, *, optional: bool = False) -> Any:
    if optional and value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string")
    return value


def _bots(value: object) -> tuple[SimBot, ...]:
    if not isinstance(value, list):
        raise ConfigError("bots must be a list")
    bots = []
    for entry in value:
        if not isinstance(entry, dict) or _integer(entry.get("id")) is None:
            raise ConfigError("each bot must be an object with an integer id")
        bots.append(
            SimBot(
                token=_text("bot token", entry.get("token")),
                id=entry["id"],
                username=_text("bot username", entry.get("username")),
                first_name=_text("bot first_name", entry.get("first_name", "Herald Bot")),
            )
        )
    return tuple(bots)


def _chats(value: object) -> tuple[SimChat, ...]:
    if not isinstance(value, list):
        raise ConfigError("chats must be a list")
    return tuple(_chat(entry) for entry in value)


def _chat(entry: object) -> SimChat:
    if not isinstance(entry, dict) or _integer(entry.get("id")) is None:
        raise ConfigError("each chat must be an object with an integer id")
    if entry.get("type") not in CHAT_TYPES:
        raise ConfigError(f"chat type must be one of {sorted(CHAT_TYPES)}")
    migrated_to = entry.get("migrated_to")
    if migrated_to is not None and _integer(migrated_to) is None:
        raise ConfigError("migrated_to must be an integer or null")
    return SimChat(
        id=entry["id"],
        type=entry["type"],
        title=str(entry.get("title", "")),
        username=_text("chat username", entry.get("username"), optional=True),
        members=_members(entry.get("members", {})),
        migrated_to=migrated_to,
    )


def _members(value: object) -> dict[int, SimMember]:
    if not isinstance(value, dict):
        raise ConfigError("members must be an object keyed by user id")
    members = {}
    for user_id, entry in value.items():
        if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
            raise ConfigError("member keys must be user ids")
        if not isinstance(entry, dict) or entry.get("status") not in MEMBER_STATUSES:
            raise ConfigError(f"member status must be one of {sorted(MEMBER_STATUSES)}")
        flags = {
            name: entry[name]
            for name in ("can_post_messages", "can_send_messages")
            if isinstance(entry.get(name), bool)
        }
        members[int(user_id)] = SimMember(entry["status"], **flags)
    return members
