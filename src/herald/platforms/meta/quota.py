"""The account's publishing quota, read before a publish (Instagram's
content_publishing_limit, Threads' threads_publishing_limit) and respected: a spent quota
waits as a rate limit, without creating any container."""

from __future__ import annotations

from herald.platforms.base import RetryableError
from herald.platforms.meta.errors import QUOTA_WAIT_S
from herald.platforms.meta.graph import GraphApi


async def check_quota(api: GraphApi, path: str) -> None:
    body = await api.call(
        "GET", path, {"fields": "quota_usage,config"}, subject="the publishing quota"
    )
    data = body.get("data")
    entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    usage = entry.get("quota_usage")
    config = entry.get("config")
    total = config.get("quota_total") if isinstance(config, dict) else None
    if isinstance(usage, int) and isinstance(total, int) and usage >= total:
        raise RetryableError.rate_limit(
            f"{api.title}'s publishing quota is spent ({usage} of {total} posts in 24 hours)",
            QUOTA_WAIT_S,
        )
