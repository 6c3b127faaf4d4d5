"""Checking a bot token and a chat before a Telegram connection is stored.

    getMe                                  the token works; the bot's id and @username
    getChat {chat_id: "@chan" | -100...}   the chat exists and the bot can see it; a basic group
                                           upgraded to a supergroup is followed to its new id
    getChatMember {chat_id, user_id: bot}  channels: the bot must be an administrator with
                                           can_post_messages (bots can post nowhere else in a
                                           channel); groups and supergroups: present, and not
                                           restricted from sending
Every call is read-only, so any failure to get an answer is retryable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from herald.net.http_client import (
    HttpClient,
    HttpError,
    InvalidUrl,
)
from herald.platforms.base import Profile, PublishError, RejectedError, RetryableError
from herald.platforms.telegram.bot_api import BotEndpoint, RefusalError, UnreadableAnswerError, call
from herald.platforms.telegram.errors import rate_limited, token_refused, verify_unreachable

_PRESENT = frozenset({"creator", "administrator", "member", "restricted"})


class _ChatMovedError(Exception):
    def __init__(self, chat_id: int) -> None:
        super().__init__(chat_id)
        self.chat_id = chat_id


async def _ask(
    client: HttpClient,
    endpoint: BotEndpoint,
    method: str,
    fields: Mapping[str, Any],
    refused: Callable[[RefusalError], Exception],
) -> Any:
    try:
        result = await call(client, endpoint, method, fields)
    except RefusalError as refusal:
        if refusal.status == 429:
            raise rate_limited(refusal) from None
        if refusal.status in (401, 404):
            raise token_refused(refusal) from None
        if refusal.status >= 500:
            raise verify_unreachable(refusal) from None
        raise refused(refusal) from None
    except (UnreadableAnswerError, HttpError, InvalidUrl) as exc:
        raise verify_unreachable(exc) from None
    if not isinstance(result, dict):
        raise _unreadable(method)
    return result


def _unreadable(method: str) -> RetryableError:
    return RetryableError(f"Telegram's answer to {method} could not be read")


def _chat_refused(chat: int | str) -> Callable[[RefusalError], Exception]:
    def refused(refusal: RefusalError) -> Exception:
        if refusal.migrate_to_chat_id is not None:
            return _ChatMovedError(refusal.migrate_to_chat_id)
        return RejectedError(
            f"Telegram cannot find the chat {chat}: {refusal.description}. Check the name; "
            "for a private channel or group, add the bot first and use the numeric id (-100...)",
            http_status=refusal.status,
        )

    return refused


def _not_admin(bot: str, chat: str) -> RejectedError:
    return RejectedError(
        f"The bot {bot} is not an administrator of {chat}; add it as an admin with the right "
        "to post messages"
    )


async def verify_connection(
    client: HttpClient, endpoint: BotEndpoint, chat_ref: int | str
) -> Profile:
    def bot_refused(refusal: RefusalError) -> PublishError:
        return token_refused(refusal)

    me = await _ask(client, endpoint, "getMe", {}, bot_refused)
    bot_name = f"@{me.get('username')}"
    try:
        chat = await _ask(
            client, endpoint, "getChat", {"chat_id": chat_ref}, _chat_refused(chat_ref)
        )
    except _ChatMovedError as moved:
        refused = _chat_refused(moved.chat_id)
        chat = await _ask(client, endpoint, "getChat", {"chat_id": moved.chat_id}, refused)
    if not isinstance(chat.get("id"), int):
        raise _unreadable("getChat")
    label = f"@{chat['username']}" if chat.get("username") else str(chat_ref)

    def member_refused(refusal: RefusalError) -> Exception:
        if chat.get("type") == "channel":
            return _not_admin(bot_name, label)
        return RejectedError(
            f"Telegram refused to tell whether {bot_name} is in {label}: {refusal.description}",
            http_status=refusal.status,
        )

    fields = {"chat_id": chat.get("id"), "user_id": me.get("id")}
    member = await _ask(client, endpoint, "getChatMember", fields, member_refused)
    _check_rights(member, chat, bot_name, label)
    return _profile(chat)


def _check_rights(member: dict[str, Any], chat: dict[str, Any], bot: str, label: str) -> None:
    status = member.get("status")
    if chat.get("type") == "channel":
        admin = status == "administrator" and member.get("can_post_messages") is True
        if status != "creator" and not admin:
            raise _not_admin(bot, label)
    elif status not in _PRESENT:
        raise RejectedError(f"The bot {bot} is not a member of {label}; add it to the chat first")
    elif status == "restricted" and member.get("can_send_messages") is False:
        raise RejectedError(f"The bot {bot} may not send messages in {label}; lift its restriction")


def _profile(chat: dict[str, Any]) -> Profile:
    username = chat.get("username") if isinstance(chat.get("username"), str) else None
    if chat.get("type") == "private":
        names = (chat.get("first_name"), chat.get("last_name"))
        title = " ".join(name for name in names if isinstance(name, str) and name)
    else:
        title = str(chat.get("title") or "")
    return Profile(
        external_id=str(chat.get("id")),
        username=f"@{username}" if username else title,
        display_name=title,
        profile_url=f"https://t.me/{username}" if username else None,
        options={"chatUsername": username, "chatType": chat.get("type")},
    )
