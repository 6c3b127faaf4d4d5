"""TelegramConnector: publishes through the Telegram Bot API (herald.sim.telegram simulates it).

Connection shapes: credentials `{"botToken": "123456:ABC..."}`; options `{"apiUrl":
"https://api.telegram.org" (default; a local Bot API server or the simulator also work), "chat":
"@channel" | "-100..."}`, plus `chatUsername` and `chatType` learnt by verify(). The connection's
external id is the numeric chat id ("-1001234567890"), which publishing prefers to the name: a
channel's @username can change, its id cannot.

A thread part is one message (or one album, whose first message stands for it), sent as
sending.py describes; parts after the first reply to the previous one. Telegram has no
idempotency key and a bot cannot read a channel's history, so there is nothing to look up after
an in-doubt send: see lookup(). Message URLs: `https://t.me/<username>/<id>` in public chats,
`https://t.me/c/<id without -100>/<id>` in private channels and supergroups, none elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import (
    HttpClient,
)
from herald.platforms.base import (
    Capabilities,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishRequest,
    RejectedError,
)
from herald.platforms.telegram.bot_api import BotEndpoint, RefusalError, call
from herald.platforms.telegram.errors import CALL_FAILURES, send_failure
from herald.platforms.telegram.sending import ApiCall, build_call
from herald.platforms.telegram.verification import verify_connection

_NUMERIC_ID = re.compile(r"-?[0-9]{1,20}")


class TelegramConnector:
    platform: Platform = Platform.TELEGRAM
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=None, supports_lookup=False, threads=True
    )

    async def verify(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> Profile:
        endpoint = BotEndpoint.of(credentials, options)
        chat = options.get("chat")
        if not isinstance(chat, str) or not (chat.startswith("@") or _NUMERIC_ID.fullmatch(chat)):
            raise RejectedError(
                "The Telegram connection needs a chat: a channel's @username or a numeric id"
            )
        return await verify_connection(client, endpoint, _chat_id(chat))

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        """`idempotency_key` is unused: the Bot API takes none."""
        endpoint = BotEndpoint.of(request.credentials, request.options)
        chat_id = _target_chat(request)
        api_call = build_call(request, chat_id)
        label = _label(request)
        try:
            result = await _send(client, endpoint, api_call)
        except RefusalError as refusal:
            if refusal.migrate_to_chat_id is None:
                raise send_failure(refusal, label) from None
            # A 400 means nothing was sent, so sending once more to the group's new home is
            # safe; the connection keeps the old id until it is reconnected.
            moved = build_call(request, refusal.migrate_to_chat_id)
            result = await _send_or_raise(client, endpoint, moved, label)
        except CALL_FAILURES as exc:
            raise send_failure(exc, label) from None
        return _published(result, request)

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        """Bots cannot read a channel's history, so Herald cannot tell whether an in-doubt send
        arrived. Returning None would claim it did not, and the reconciler would send it again;
        so this says "unknown", and the owner checks the chat (capabilities.supports_lookup is
        False, so the reconciler does not ask)."""
        raise OutcomeUnknownError(
            "Telegram bots cannot read the chat's history, so Herald cannot check whether this "
            "message was sent; look in the chat before publishing it again"
        )


async def _send(client: HttpClient, endpoint: BotEndpoint, api: ApiCall) -> Any:
    return await call(client, endpoint, api.method, api.fields, api.uploads)


async def _send_or_raise(
    client: HttpClient, endpoint: BotEndpoint, api: ApiCall, label: str
) -> Any:
    try:
        return await _send(client, endpoint, api)
    except CALL_FAILURES as exc:
        raise send_failure(exc, label) from None


def _chat_id(chat: str) -> int | str:
    return int(chat) if _NUMERIC_ID.fullmatch(chat) else chat


def _target_chat(request: PublishRequest) -> int | str:
    if _NUMERIC_ID.fullmatch(request.account_external_id):
        return int(request.account_external_id)
    chat = request.options.get("chat")
    if isinstance(chat, str) and chat:
        return _chat_id(chat)
    raise RejectedError("The Telegram connection has no chat; reconnect it")


def _label(request: PublishRequest) -> str:
    username = request.options.get("chatUsername")
    if isinstance(username, str) and username:
        return f"@{username}"
    chat = request.options.get("chat")
    return chat if isinstance(chat, str) and chat else request.account_external_id


def _published(result: Any, request: PublishRequest) -> Published:
    # An album's answer is its messages; the first one stands for the post.
    message = result[0] if isinstance(result, list) and result else result
    message_id = message.get("message_id") if isinstance(message, dict) else None
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise OutcomeUnknownError(
            "Telegram answered success without a message id; the message was probably sent"
        )
    chat = message.get("chat")
    if not isinstance(chat, dict):
        chat = {
            "id": request.account_external_id,
            "type": request.options.get("chatType"),
            "username": request.options.get("chatUsername"),
        }
    return Published(str(message_id), message_url(chat, message_id))


def message_url(chat: Mapping[str, Any], message_id: int) -> str | None:
    username = chat.get("username")
    if isinstance(username, str) and username:
        return f"https://t.me/{username}/{message_id}"
    chat_id = str(chat.get("id"))
    if chat.get("type") in ("channel", "supergroup") and chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id.removeprefix('-100')}/{message_id}"
    return None  # basic groups and private chats have no message links
