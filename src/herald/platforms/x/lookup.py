"""Finding the tweet an in-doubt publish may have created, in the account's recent tweets.

X takes no idempotency key, so lookup reads the account's timeline
(GET /2/users/{id}/tweets, newest first, 100 a page, retweets excluded, following
`meta.next_token`) and takes the newest tweet that has
  - the request's reply parent as its `replied_to` reference (none for a thread's first part
    unless `replyTo` is set), and the `quoteTweet` setting's tweet as its `quoted` one,
  - as many media keys as the request has media,
  - the request's text. X answers a tweet's text with `&`, `<` and `>` as HTML entities, every
    link replaced by its t.co address, and a link to the attached media appended; so the
    tweet's text is unescaped, its media links dropped, and each other link (X's
    `entities.urls`, found by their t.co address) matches any run of non-space characters in
    the request's text. Both sides are compared NFC-normalised with each run of whitespace made
    one space and the ends trimmed.

Only a tweet created after `scheduled_at` less CLOCK_MARGIN can come from the attempt: the first
older tweet, or the end of the timeline, ends the search with None. If PAGES pages go by before
either, lookup raises RetryableError, never a None that would make the engine send a second tweet.

Limits: two tweets alike in text, parents and media count within the window (the owner posted
the same words by hand) cannot be told apart, and the newest is taken; whitespace differences
are not seen. X's timeline can lag behind a tweet's creation: a lookup that runs in that gap
answers None and the engine sends again, which X refuses as duplicate content; the connector
then looks again (see connector.py), so the lag costs a call, not a second tweet.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from herald.platforms.base import Published, PublishRequest, RetryableError
from herald.platforms.x.api import XApi, tweet_url
from herald.platforms.x.errors import error_for
from herald.platforms.x.tweets import quote_target, reply_target

PAGE_SIZE = 100  # X's maximum for a user's tweets
PAGES = 5
CLOCK_MARGIN = timedelta(minutes=10)
_FIELDS = "created_at,referenced_tweets,attachments,entities"
_SPACE = re.compile(r"\s+")
_LINK = "\x00"


async def find_tweet(api: XApi, request: PublishRequest) -> Published | None:
    wanted = comparable(request.text)
    oldest = request.scheduled_at - CLOCK_MARGIN if request.scheduled_at else None
    path = f"/2/users/{quote(request.account_external_id, safe='')}/tweets"
    params: dict[str, str | int] = {
        "max_results": PAGE_SIZE,
        "tweet.fields": _FIELDS,
        "exclude": "retweets",
    }
    for _ in range(PAGES):
        response = await api.send("GET", path, params=params)
        if response.status_code != 200:
            raise error_for(response, api.token, "the lookup", may_exist=False)
        body = response.json()
        if not isinstance(body, dict):
            raise TypeError("the timeline must be a JSON object")
        page, meta = body.get("data") or [], body.get("meta") or {}
        if not isinstance(page, list) or not isinstance(meta, dict):
            raise TypeError("the timeline's data must be a list and its meta an object")
        for tweet in page:
            if not isinstance(tweet, dict):
                raise TypeError("each tweet must be a JSON object")
            if oldest is not None and _created_at(tweet) < oldest:
                return None
            if _matches(tweet, request, wanted):
                username = request.options.get("username")
                return Published(str(tweet["id"]), tweet_url(str(tweet["id"]), _handle(username)))
        token = meta.get("next_token")
        if not isinstance(token, str) or not token:
            return None  # the end of the account's timeline
        params["pagination_token"] = token
    raise RetryableError(
        f"X lookup read {PAGES * PAGE_SIZE} tweets without reaching the post's scheduled "
        "time; it cannot tell yet whether the tweet was published"
    )


def comparable(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def text_pattern(tweet: Mapping[str, Any]) -> re.Pattern[str]:
    """A pattern for the texts that X would show as this tweet's text."""
    text = tweet.get("text")
    if not isinstance(text, str):
        raise TypeError("a tweet's text must be a string")
    # NUL marks a link: no tweet text holds one (Herald refuses it in content).
    pieces: list[str] = []
    position = 0
    for start, end, is_media in _links(tweet, text):
        pieces += (html.unescape(text[position:start]), "" if is_media else _LINK)
        position = end
    pieces.append(html.unescape(text[position:]))
    literal = comparable("".join(pieces))
    return re.compile(r"\S+".join(re.escape(part) for part in literal.split(_LINK)))


def _links(tweet: Mapping[str, Any], text: str) -> list[tuple[int, int, bool]]:
    """Where the tweet's links stand in its text, in order. Each is found by its t.co address:
    X's entity offsets count in code points of the unescaped text, which the escaped text X
    sends no longer matches once it holds an `&amp;`."""
    entities = tweet.get("entities")
    urls = entities.get("urls") if isinstance(entities, dict) else None
    spans, position = [], 0
    for url in urls if isinstance(urls, list) else []:
        address = url.get("url") if isinstance(url, dict) else None
        if not isinstance(address, str) or not address:
            continue
        start = text.find(address, position)
        if start >= 0:
            position = start + len(address)
            spans.append((start, position, "media_key" in url))
    return spans


def _matches(tweet: dict[str, Any], request: PublishRequest, wanted: str) -> bool:
    references = {
        ref.get("type"): ref.get("id")
        for ref in tweet.get("referenced_tweets") or []
        if isinstance(ref, dict)
    }
    if references.get("replied_to") != reply_target(request):
        return False
    if references.get("quoted") != quote_target(request):
        return False
    attachments = tweet.get("attachments")
    keys = attachments.get("media_keys") if isinstance(attachments, dict) else None
    if len(keys if isinstance(keys, list) else []) != len(request.media):
        return False
    return text_pattern(tweet).fullmatch(wanted) is not None


def _created_at(tweet: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(tweet["created_at"]).replace("Z", "+00:00"))


def _handle(username: Any) -> str | None:
    return username if isinstance(username, str) and username else None
