"""The container model Instagram and Threads share: create a container (Meta fetches the
media from its URL), wait with a bounded budget until it is FINISHED, publish it once, and
settle a publish whose answer was lost by reading the account's recent posts, never by
publishing the same container again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from herald.platforms.base import (
    OutcomeUnknownError,
    Published,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.meta.graph import GraphApi, text

# How far before the time the owner asked for a post found in the account's recent posts may
# be dated and still be this one (clocks differ; an early engine run is impossible).
LOOKUP_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Waits:
    """How a container is polled: at once, then after `first_s`, doubling up to `max_s`,
    until `budget_s` has passed (then the attempt is retried later with new containers; the
    unpublished ones expire at Meta after a day)."""

    first_s: float = 0.1
    max_s: float = 15.0
    budget_s: float = 300.0


async def wait_until_ready(api: GraphApi, container_id: str, field: str, waits: Waits) -> None:
    """Returns once the container is FINISHED; RejectedError when Meta could not process
    it (ERROR, EXPIRED), RetryableError when the budget ran out first."""
    deadline = time.monotonic() + waits.budget_s
    delay = waits.first_s
    extra = "error_message" if field == "status" else "status"
    while True:
        body = await api.call(
            "GET", f"/{container_id}", {"fields": f"{field},{extra}"}, subject="the container"
        )
        status = text(body.get(field))
        if status == "FINISHED":
            return
        if status in {"ERROR", "EXPIRED"}:
            detail = text(body.get(extra)) or status
            raise RejectedError(
                f"{api.title} could not process the media: {detail}",
                code="MEDIA_PROCESSING_FAILED",
            )
        if status == "PUBLISHED":
            raise RejectedError(f"{api.title} says the container is already published")
        if time.monotonic() + delay > deadline:
            raise RetryableError(
                f"{api.title} was still processing the media after {waits.budget_s:.0f} s"
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, waits.max_s)


async def create_container(api: GraphApi, path: str, params: Mapping[str, str]) -> str:
    body = await api.call("POST", path, params, subject="the media container")
    container_id = text(body.get("id"))
    if not container_id:
        raise RetryableError(f"{api.title} answered a container without an id")
    return container_id


Matcher = Callable[[Mapping[str, Any]], bool]


async def publish_once(
    api: GraphApi,
    path: str,
    container_id: str,
    settle: Callable[[], Any],
) -> str:
    """POST the publish edge once; when its outcome is unknown, `settle()` (a read of the
    recent posts) decides, and if it finds nothing the outcome stays unknown for the
    engine's reconciler: the same container is never published a second time."""
    try:
        body = await api.call(
            "POST", path, {"creation_id": container_id}, subject="the post", may_exist=True
        )
    except OutcomeUnknownError:
        found = await _quietly(settle)
        if isinstance(found, str):
            return found
        raise
    media_id = text(body.get("id"))
    if not media_id:
        raise OutcomeUnknownError(f"{api.title} answered the publish without an id")
    return media_id


async def _quietly(settle: Callable[[], Any]) -> object:
    try:
        found: object = await settle()
    except (RetryableError, RejectedError, OutcomeUnknownError):
        return None
    return found.external_id if isinstance(found, Published) else None


async def find_recent(
    api: GraphApi, path: str, fields: str, matches: Matcher, link_field: str
) -> Published | None:
    """The newest of the account's recent posts `matches` accepts, as Published."""
    body = await api.call("GET", path, {"fields": fields, "limit": "50"}, subject="recent posts")
    data = body.get("data")
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, Mapping) and text(entry.get("id")) and matches(entry):
            return Published(text(entry.get("id")), text(entry.get(link_field)) or None)
    return None


def recent_enough(entry: Mapping[str, Any], key: str, request: PublishRequest) -> bool:
    """The post is dated no earlier than the owner's time allows (undated posts pass)."""
    if request.scheduled_at is None:
        return True
    try:
        stamp = datetime.strptime(text(entry.get(key)), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return False
    return stamp >= request.scheduled_at - LOOKUP_SLACK


async def permalink(api: GraphApi, media_id: str, field: str = "permalink") -> str | None:
    """The post's address; None when Meta does not tell it (the post exists all the same)."""
    try:
        body = await api.call("GET", f"/{media_id}", {"fields": field}, subject="the permalink")
    except (RetryableError, RejectedError, OutcomeUnknownError):
        return None
    return text(body.get(field)) or None
