"""Publora's linkedin-profile-summary (OAS; publora-latest §2.13): the connection's follower
count, its growth over an optional date range, and its posts' engagement together, each read
from LinkedIn on its own so that one failed read leaves the others (`partialData`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from herald.errors import AppError
from herald.platforms.base import AuthExpiredError, PublishError
from herald.platforms.linkedin import actions
from herald.services.linkedin_social import Author

Day = tuple[int, int, int]
ALL_FAILED = "Failed to fetch LinkedIn profile data"
# Publora's posts block, named after LinkedIn's memberCreatorPostAnalytics query types.
POST_TOTALS = {
    "IMPRESSION": "totalImpressions",
    "REACTION": "totalReactions",
    "COMMENT": "totalComments",
    "RESHARE": "totalReshares",
    "MEMBERS_REACHED": "totalMembersReached",
}
MEMBERS_ONLY = "available for member connections only"


class SummaryUnavailableError(AppError):
    """Every read failed: Publora's 502."""

    status_code = 502
    code = "LINKEDIN_PROFILE_UNAVAILABLE"


class _MembersOnlyError(Exception):
    pass


async def _read(
    metric: str, read: Callable[[], Awaitable[Any]], errors: list[dict[str, str]]
) -> Any:
    """The read's value, or None with {metric, error} noted. An expired token is no partial
    answer: it ends the request (Publora's LINKEDIN_TOKEN_EXPIRED)."""
    try:
        return await read()
    except AuthExpiredError:
        raise
    except PublishError as failed:
        errors.append({"metric": metric, "error": failed.message})
    except _MembersOnlyError as refused:
        errors.append({"metric": metric, "error": str(refused)})
    return None


async def profile_summary(author: Author, span: tuple[Day, Day] | None) -> dict[str, Any]:
    """Publora's 200 body: {success, partialData, profile: {followers, posts}, errors?}."""
    errors: list[dict[str, str]] = []

    async def growth() -> int:
        if author.is_page or span is None:
            raise _MembersOnlyError(f"Follower growth is {MEMBERS_ONLY}")
        days = await actions.daily_followers(author.api, span[0], span[1])
        return sum(int(d["count"]) for d in days)

    async def posts() -> dict[str, int]:
        if author.is_page:
            raise _MembersOnlyError(f"Post analytics are {MEMBERS_ONLY}")
        counts = await actions.account_metrics(author.api, tuple(POST_TOTALS))
        return {POST_TOTALS[metric]: count for metric, count in counts.items()}

    total = await _read("followers", lambda: actions.followers(author.api, author.urn), errors)
    period = await _read("periodGrowth", growth, errors) if span is not None else None
    totals = await _read("posts", posts, errors)
    if total is None and period is None and totals is None:
        raise SummaryUnavailableError(ALL_FAILED)
    profile: dict[str, Any] = {}
    if total is not None:
        profile["followers"] = {"total": total}
        if period is not None:
            profile["followers"]["periodGrowth"] = period
    if totals is not None:
        profile["posts"] = totals
    answer: dict[str, Any] = {"success": True, "partialData": bool(errors), "profile": profile}
    if errors:
        answer["errors"] = errors
    return answer
