"""Publora's platform analytics rules (publora-latest §2.5): which platforms, the request
limits and refusals, how long answers are kept, and how a reader's failure is reported."""

from __future__ import annotations

from datetime import timedelta

SUPPORTED = ("mastodon", "bluesky")
MAX_POSTS = 50
MAX_FIELD_CHARACTERS = 512
CACHE_FOR = timedelta(hours=2)  # values and missing posts alike, per connection
MAX_COOLDOWN = timedelta(hours=1)  # after a platform's 429, at most until its reset
DEFAULT_COOLDOWN = timedelta(minutes=15)  # a 429 that gives no reset
BUDGET_SECONDS = 90.0

POSTS_REQUIRED = "posts array is required"
TOO_MANY_POSTS = f"Maximum {MAX_POSTS} posts per request"
BAD_ENTRY = "Each post must have string platform, platformId and postedId"
PROFILE_FIELDS_REQUIRED = "platform and platformId are required"
TIMED_OUT = "Analytics request timed out"


def unsupported(platform: str) -> str:
    return f'Unsupported platform "{platform}". Supported: {", ".join(SUPPORTED)}'


def connection_not_found(platform: str) -> str:
    return f"{platform} connection not found"


def external_id(platform: str, platform_id: str) -> str:
    """`platformId` with or without the `<platform>-` prefix."""
    return platform_id.removeprefix(f"{platform}-")


METRIC_KEYS = ("reactions", "comments", "reposts", "quotes", "saves")
# Neither platform reports these: always null, never 0.
NEVER_REPORTED = ("impressions", "reach", "clicks")
