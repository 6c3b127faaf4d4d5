"""The body of POST /2/tweets for one thread part, and the tweets it refers to.

publora-latest §5.2: `platformSettings.twitter.replyTo` makes the single post, or a thread's
first part, a reply to that tweet (later parts reply to the part before, as every thread does);
`quoteTweet` quotes that tweet from the single post or the thread's first part. Both are stored
as numeric ids (herald.domain.platform_settings normalises tweet URLs at intake)."""

from __future__ import annotations

from typing import Any

from herald.domain.platform_settings import tweet_id_of
from herald.platforms.base import PublishRequest


def reply_target(request: PublishRequest) -> str | None:
    """The tweet this part replies to: the previous part, else the `replyTo` setting."""
    if request.reply_to_id is not None:
        return request.reply_to_id
    return _setting(request, "replyTo") if request.part_index == 0 else None


def quote_target(request: PublishRequest) -> str | None:
    return _setting(request, "quoteTweet") if request.part_index == 0 else None


def tweet_body(request: PublishRequest, media_ids: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"text": request.text}
    if media_ids:
        body["media"] = {"media_ids": media_ids}
    parent = reply_target(request)
    if parent is not None:
        body["reply"] = {"in_reply_to_tweet_id": parent}
    quoted = quote_target(request)
    if quoted is not None:
        body["quote_tweet_id"] = quoted
    return body


def _setting(request: PublishRequest, name: str) -> str | None:
    value = request.settings.get(name)
    return tweet_id_of(value) if isinstance(value, str) and value else None
