"""Helpers for Telegram tests: a simulator world of bots and chats, its control API, requests."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from herald.domain.platform import Platform
from herald.platforms.base import MediaItem, Profile, Published, PublishRequest
from herald.platforms.telegram import TelegramConnector
from herald.sim.faults import SandboxConfig
from herald.sim.telegram import create_telegram_app
from herald.sim.telegram_config import SimBot, SimChat, SimMember, TelegramConfig
from sim_support import (
    HANG_S,
    SimControl,
    platform_client,
    reset_for_test,
    serve_in_thread,
)

TOKEN = "5550001:AAH-herald-test-token-0123456789"
OTHER_TOKEN = "5550002:AAH-other-bot-token-9876543210"
BOT = SimBot(TOKEN, 5550001, "herald_test_bot", "Herald Test")
OTHER_BOT = SimBot(OTHER_TOKEN, 5550002, "other_test_bot", "Other")

PUBLIC_CHANNEL = -1001111111111  # @herald_news, the bot an admin that may post
PRIVATE_CHANNEL = -1002222222222  # no username, the bot an admin that may post
NO_POST_CHANNEL = -1003333333333  # @no_post_rights: the bot an admin without can_post_messages
ABSENT_CHANNEL = -1004444444444  # @bot_absent: public, the bot not in it
SUPERGROUP = -1005555555555  # private supergroup, the bot a member
OLD_GROUP = -555555  # a basic group upgraded to SUPERGROUP
GROUP = -666666  # a basic group, the bot a member
PRIVATE_CHAT = 7777777  # a user who started the bot


def _admin(can_post: bool = True) -> SimMember:
    return SimMember("administrator", can_post_messages=can_post)


def world_config() -> TelegramConfig:
    member = {BOT.id: SimMember("member")}
    chats = (
        SimChat(PUBLIC_CHANNEL, "channel", "Herald News", "herald_news", {BOT.id: _admin()}),
        SimChat(PRIVATE_CHANNEL, "channel", "Backstage", None, {BOT.id: _admin()}),
        SimChat(NO_POST_CHANNEL, "channel", "No Rights", "no_post_rights", {BOT.id: _admin(False)}),
        SimChat(ABSENT_CHANNEL, "channel", "Absent", "bot_absent", {OTHER_BOT.id: _admin()}),
        SimChat(SUPERGROUP, "supergroup", "Team", None, member),
        SimChat(OLD_GROUP, "group", "Team (old)", None, member, migrated_to=SUPERGROUP),
        SimChat(GROUP, "group", "Small group", None, member),
        SimChat(PRIVATE_CHAT, "private", "Ada", None, member),
    )
    return TelegramConfig(
        bots=(BOT, OTHER_BOT), chats=chats, behaviour=SandboxConfig(hang_s=HANG_S)
    )


class TelegramControl(SimControl):
    """SimControl plus the Telegram simulator's messages and plain Bot API calls."""

    def messages(self, chat: int | str | None = None) -> list[dict[str, Any]]:
        return self.listing("messages", chat=str(chat) if chat is not None else None)

    def call(self, method: str, token: str = TOKEN, **kwargs: Any) -> httpx.Response:
        return self.http.post(f"/bot{token}/{method}", **kwargs)


@pytest.fixture(scope="module")
def telegram_sim_url() -> Iterator[str]:
    """One simulator per test module; `telegram_sim` resets it before each test."""
    with serve_in_thread(create_telegram_app(world_config())) as base_url:
        yield base_url


@pytest.fixture
def telegram_sim(telegram_sim_url: str) -> Iterator[TelegramControl]:
    yield from reset_for_test(TelegramControl(telegram_sim_url))


def bot_answer(response: httpx.Response) -> tuple[int, Any]:
    """(HTTP status, result) for ok answers, (status, description) for refusals."""
    body = response.json()
    if body["ok"]:
        assert response.status_code == 200
        return 200, body["result"]
    assert body["error_code"] == response.status_code
    return response.status_code, body["description"]


def send_text(sim: TelegramControl, chat: int | str = PUBLIC_CHANNEL, **fields: Any) -> Any:
    return sim.call("sendMessage", json={"chat_id": chat, "text": "hi", **fields})


def photo_parts(*images: bytes) -> dict[str, tuple[str, bytes, str]]:
    """Multipart file parts f0, f1, ... holding PNG images."""
    return {f"f{n}": (f"f{n}.png", data, "image/png") for n, data in enumerate(images)}


def send_album(
    sim: TelegramControl, items: list[dict[str, Any]], files: Any, **fields: Any
) -> httpx.Response:
    data = {"chat_id": str(PUBLIC_CHANNEL), "media": json.dumps(items), **fields}
    return sim.call("sendMediaGroup", data=data, files=files)


def image_bytes(width: int = 8, height: int = 6, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, kind)
    return buffer.getvalue()


VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8  # Telegram stores, not decodes


def _opener(data: bytes, chunk: int = 1000) -> Callable[[], AsyncIterator[bytes]]:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), chunk):
            yield data[start : start + chunk]

    return chunks


def image_item(data: bytes | None = None, content_type: str = "image/png") -> MediaItem:
    payload = image_bytes() if data is None else data
    return MediaItem("image", content_type, "https://media.example/a.png", None, _opener(payload))


def video_item(data: bytes = VIDEO_BYTES) -> MediaItem:
    return MediaItem("video", "video/mp4", "https://media.example/v.mp4", None, _opener(data))


def telegram_request(base_url: str, chat: int = PUBLIC_CHANNEL, **fields: Any) -> PublishRequest:
    """A PublishRequest for the connection of `chat` on the simulator at `base_url`."""
    values: dict[str, Any] = {
        "target_id": "target-1",
        "platform": Platform.TELEGRAM,
        "account_external_id": str(chat),
        "text": "Hello from Herald",
        "options": {"apiUrl": base_url, "chat": str(chat)},
        "credentials": {"botToken": TOKEN},
    }
    values.update(fields)
    return PublishRequest(**values)


connector = TelegramConnector()


def publish(request: PublishRequest) -> Published:
    async def run() -> Published:
        async with platform_client() as http:
            return await connector.publish(http, request, "key-1")

    return asyncio.run(run())


def verify(base_url: str, chat: str, token: str = TOKEN) -> Profile:
    async def run() -> Profile:
        async with platform_client() as http:
            options = {"apiUrl": base_url, "chat": chat}
            return await connector.verify(http, {"botToken": token}, options)

    return asyncio.run(run())
