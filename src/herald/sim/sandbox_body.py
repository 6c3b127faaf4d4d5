"""The sandbox simulator's request bodies: each field read and checked as the protocol in
sim/sandbox.py says; a breach is InvalidError, whose message goes back in a 422."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from herald.domain.platform import Platform
from herald.domain.text import measure

TEXT_LIMIT = 500


class InvalidError(Exception):
    """The request breaks the protocol; the message goes back in a 422."""


async def json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidError("body must be JSON") from exc
    if not isinstance(body, dict):
        raise InvalidError("body must be a JSON object")
    return body


def account_of(body: dict[str, Any]) -> str:
    account = body.get("account")
    if not isinstance(account, str) or not account:
        raise InvalidError("account must be a non-empty string")
    return account


def text_of(body: dict[str, Any]) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidError("text must be a non-empty string")
    length = measure(Platform.SANDBOX, text)
    if length > TEXT_LIMIT:
        raise InvalidError(f"text is {length} characters long; the limit is {TEXT_LIMIT}")
    return text


def media_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    media = body.get("media")
    if media is None:
        return []
    if not isinstance(media, list):
        raise InvalidError("media must be a list")
    for item in media:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise InvalidError("each media item must be an object with a string url")
    return media
