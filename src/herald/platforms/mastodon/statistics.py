"""Reading a Mastodon account's numbers back: a status's favourites, boosts, replies and (4.5+)
quotes with GET /api/v1/statuses/:id, and the account's followers, following and statuses with
GET /api/v1/accounts/verify_credentials (the token's own account)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from herald.platforms.base import PostMetrics, ProfileMetrics, RetryableError
from herald.platforms.mastodon.api import MastodonApi
from herald.platforms.mastodon.errors import error_for

_GONE = (404, 410)


def _count(entity: dict[str, Any], name: str) -> int | None:
    value = entity.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _entity(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RetryableError("Mastodon answered with an unreadable body")
    return body


async def status_metrics(
    api: MastodonApi, posted_ids: Sequence[str]
) -> dict[str, PostMetrics | None]:
    found: dict[str, PostMetrics | None] = {}
    for posted_id in posted_ids:
        if not posted_id.isdigit():  # Mastodon ids are decimal; anything else is not one
            found[posted_id] = None
            continue
        response = await api.send("GET", f"/api/v1/statuses/{posted_id}")
        if response.status_code in _GONE:
            found[posted_id] = None
            continue
        if response.status_code != 200:
            raise error_for(response, api.token, "the status", may_exist=False)
        status = _entity(response)
        found[posted_id] = PostMetrics(
            reactions=_count(status, "favourites_count"),
            comments=_count(status, "replies_count"),
            reposts=_count(status, "reblogs_count"),
            quotes=_count(status, "quotes_count"),  # Mastodon 4.5+; absent before
            saves=None,  # Mastodon has no public bookmark count
        )
    return found


async def account_metrics(api: MastodonApi) -> ProfileMetrics:
    response = await api.send("GET", "/api/v1/accounts/verify_credentials")
    if response.status_code != 200:
        raise error_for(response, api.token, "the account", may_exist=False)
    account = _entity(response)
    return ProfileMetrics(
        followers=_count(account, "followers_count"),
        following=_count(account, "following_count"),
        posts=_count(account, "statuses_count"),
    )
