"""Finding the status an in-doubt publish may have created, in the account's recent statuses.

Mastodon cannot say which status an Idempotency-Key created, so lookup reads the account's
statuses (GET /api/v1/accounts/{id}/statuses, newest first, 40 a page, boosts excluded,
following max_id) and takes the newest status that has
  - `in_reply_to_id` equal to the request's `reply_to_id` (none for a thread's first part),
  - as many media attachments as the request has,
  - the request's text: the status's HTML `content` with tags stripped and entities unescaped,
    compared after both sides are NFC-normalised, `@user@domain` shortened to `@user` (how
    Mastodon shows the mentions it resolves) and every run of whitespace made one space (the
    HTML keeps paragraphs and line breaks, not the exact whitespace).

Only a status created after `scheduled_at` less CLOCK_MARGIN can come from the attempt: the
first status older than that, or the end of the statuses, ends the search with None. If
PAGES pages go by before either, the answer is not known and lookup raises RetryableError,
never a None that would make the engine send a second status.

Limits: two statuses alike in text, parent and media count within the window (the owner
posted the same words by hand) cannot be told apart, and the newest is taken; differences in
whitespace alone or in a mention's domain are not seen; and text that the instance changes
beyond formatting it (a fork's filters) never matches, so the engine re-sends it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from herald.platforms.base import Published, PublishRequest, RetryableError
from herald.platforms.mastodon.api import MastodonApi, published
from herald.platforms.mastodon.errors import error_for

PAGE_SIZE = 40  # Mastodon's maximum
PAGES = 10
# Herald's clock and the instance's may disagree a little, and a due post may go out a
# moment before its time.
CLOCK_MARGIN = timedelta(minutes=10)
_REMOTE_MENTION = re.compile(r"(?<![\w@/])@(\w+)@[\w.-]*\w")


async def find_status(api: MastodonApi, request: PublishRequest) -> Published | None:
    wanted = comparable_text(request.text)
    oldest = request.scheduled_at - CLOCK_MARGIN if request.scheduled_at else None
    path = f"/api/v1/accounts/{quote(request.account_external_id, safe='')}/statuses"
    params: dict[str, str | int] = {"limit": PAGE_SIZE, "exclude_reblogs": "true"}
    for _ in range(PAGES):
        response = await api.send("GET", path, params=params)
        if response.status_code != 200:
            raise error_for(response, api.token, "the lookup", may_exist=False)
        page = response.json()
        if not isinstance(page, list):
            raise TypeError("the statuses must be a JSON list")
        if not page:
            return None  # the account's very first status is behind us
        for status in page:
            if not isinstance(status, dict):
                raise TypeError("each status must be a JSON object")
            if oldest is not None and _created_at(status) < oldest:
                return None
            if _matches(status, request, wanted):
                return published(status)
        params["max_id"] = str(page[-1]["id"])
    raise RetryableError(
        f"Mastodon lookup read {PAGES * PAGE_SIZE} statuses without reaching the post's "
        "scheduled time; it cannot tell yet whether the post was published"
    )


def comparable_text(text: str) -> str:
    text = _REMOTE_MENTION.sub(r"@\1", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def content_text(content: str) -> str:
    """The text a status's HTML content shows."""
    parser = _TextOfHtml()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts)


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities come back as characters
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _matches(status: dict[str, Any], request: PublishRequest, wanted: str) -> bool:
    if status.get("reblog") is not None:
        return False
    if status.get("in_reply_to_id") != request.reply_to_id:
        return False
    if len(status.get("media_attachments") or []) != len(request.media):
        return False
    content = status.get("content")
    return isinstance(content, str) and comparable_text(content_text(content)) == wanted


def _created_at(status: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(status["created_at"])
