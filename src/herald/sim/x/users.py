"""GET /2/users/me and GET /2/users/:id/tweets (the user's recent tweets, newest first)."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from herald.sim.x.entities import TWEET_FIELDS, USER_FIELDS, tweet_entity, user_entity
from herald.sim.x.http import blank_problem, enter, invalid_request, respond, sim_of, too_many
from herald.sim.x.state import SimTweet

READ_SCOPES = ("tweet.read", "users.read")  # X's OpenAPI `security` for both reads
PAGE_MIN, PAGE_MAX, PAGE_DEFAULT = 5, 100, 10
EXCLUDES = frozenset(("replies", "retweets"))
# The query parameters each endpoint takes (X's OpenAPI); X refuses any other with a 400.
EXPANDABLE = ("expansions", "user.fields", "media.fields", "poll.fields", "place.fields")
ME_PARAMETERS = frozenset(("user.fields", "expansions", "tweet.fields", "post.fields"))
TIMELINE_PARAMETERS = frozenset(
    (
        "max_results",
        "pagination_token",
        "start_time",
        "end_time",
        "since_id",
        "until_id",
        "exclude",
        "tweet.fields",
        "post.fields",  # the name in X's current OpenAPI and its SDK; tweet.fields still works
        *EXPANDABLE,
    )
)


async def me(request: Request) -> Response:
    sim = sim_of(request)
    token = await enter(request, "users:me", READ_SCOPES, sim.config.reads_per_window)
    sim.stats.me += 1
    _known_parameters(request.query_params, ME_PARAMETERS)
    fields = _fields(request.query_params, "user.fields", USER_FIELDS)
    return respond(request, {"data": user_entity(token.grant.user, fields)})


async def user_tweets(request: Request) -> Response:
    """Newest first; `max_results` (5-100, default 10), `pagination_token`, `since_id`,
    `until_id`, `start_time`, `end_time`, `exclude` (replies, retweets), `tweet.fields`.
    An unknown user is a 200 whose `errors` names it, as X answers lookups. A scripted
    timeline fault answers first: 503, or 429 with the caller's window full `retry_after_s`."""
    sim = sim_of(request)
    token = await enter(request, "users:tweets", READ_SCOPES, sim.config.reads_per_window)
    sim.stats.timelines += 1
    fault = sim.timeline_script.popleft() if sim.timeline_script else "ok"
    if fault == "rate_limit":
        key, limit = (token.grant.user.id, "users:tweets"), sim.config.reads_per_window or 900
        raise too_many(request, sim.windows.exhaust(key, limit, sim.config.common.retry_after_s))
    if fault == "unavailable":
        raise blank_problem(503, "Service Unavailable")
    query, user_id = request.query_params, request.path_params["id"]
    _known_parameters(query, TIMELINE_PARAMETERS)
    matching = _Filter.of(query)
    fields = _fields(query, "tweet.fields", TWEET_FIELDS) | _fields(
        query, "post.fields", TWEET_FIELDS
    )
    size = _page_size(query.get("max_results"))
    if user_id not in sim.users:
        return respond(request, {"errors": [_user_not_found(user_id)]})
    now = time.monotonic()
    tweets = [
        t
        for t in reversed(sim.by_author.get(user_id, []))  # newest first: ids grow
        if not t.deleted and t.visible_at <= now and matching.matches(t)
    ]
    start = _page_start(query.get("pagination_token"), tweets)
    page = tweets[start : start + size]
    if not page:
        return respond(request, {"meta": {"result_count": 0}})
    meta: dict[str, object] = {
        "result_count": len(page),
        "newest_id": page[0].id,
        "oldest_id": page[-1].id,
    }
    if start + size < len(tweets):
        meta["next_token"] = _token_for(page[-1].id)
    return respond(request, {"data": [tweet_entity(t, fields) for t in page], "meta": meta})


def _known_parameters(query: QueryParams, known: frozenset[str]) -> None:
    unknown = sorted(set(query) - known)
    if unknown:
        choices = ",".join(sorted(known))
        message = f"The query parameter [{unknown[0]}] is not one of [{choices}]"
        raise invalid_request(unknown[0], query.getlist(unknown[0]), message)


def _fields(query: QueryParams, name: str, known: frozenset[str]) -> frozenset[str]:
    asked = [f for f in query.get(name, "").split(",") if f]
    unknown = [f for f in asked if f not in known]
    if unknown:
        choices = ",".join(sorted(known))
        message = f"The `{name}` query parameter value [{unknown[0]}] is not one of [{choices}]"
        raise invalid_request(name, unknown, message)
    return frozenset(asked)


def _page_size(value: str | None) -> int:
    if value is None:
        return PAGE_DEFAULT
    if not value.isdecimal() or not PAGE_MIN <= int(value) <= PAGE_MAX:
        message = f"The `max_results` query parameter value [{value}] is not between 5 and 100"
        raise invalid_request("max_results", value, message)
    return int(value)


@dataclass(frozen=True, slots=True)
class _Filter:
    """The timeline query's filters, read and checked once, before any tweet is looked at."""

    since: int | None
    until: int | None
    start: datetime | None
    end: datetime | None
    no_replies: bool

    @classmethod
    def of(cls, query: QueryParams) -> _Filter:
        start, end = _time(query, "start_time"), _time(query, "end_time")
        since, until = _id(query, "since_id"), _id(query, "until_id")
        return cls(since, until, start, end, "replies" in _excluded(query))

    def matches(self, tweet: SimTweet) -> bool:
        number, made = int(tweet.id), tweet.created_at
        return not (
            (self.since is not None and number <= self.since)
            or (self.until is not None and number >= self.until)
            or (self.start is not None and made < self.start)
            or (self.end is not None and made > self.end)
            or (self.no_replies and tweet.in_reply_to is not None)
        )


def _excluded(query: QueryParams) -> set[str]:
    excluded = set(query.get("exclude", "").split(",")) - {""}
    if excluded - EXCLUDES:
        raise invalid_request("exclude", sorted(excluded), "exclude must be replies or retweets")
    return excluded


def _id(query: QueryParams, name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    if not value.isdecimal():
        raise invalid_request(
            name, value, f"The `{name}` query parameter value [{value}] is not valid"
        )
    return int(value)


def _time(query: QueryParams, name: str) -> datetime | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        message = f"The `{name}` query parameter value [{value}] is not a valid RFC3339 time"
        raise invalid_request(name, value, message)
    return moment


def _token_for(tweet_id: str) -> str:
    """An opaque pagination token naming the last tweet shown; the next page starts after it."""
    return base64.b32encode(f"n{tweet_id}".encode()).decode().rstrip("=").lower()


def _page_start(token: str | None, tweets: list[SimTweet]) -> int:
    if token is None:
        return 0
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
    except ValueError:
        raw = ""
    if raw[:1] != "n" or not raw[1:].isdecimal():
        raise invalid_request("pagination_token", token, "The pagination token is invalid")
    last_shown = int(raw[1:])
    return next((i for i, t in enumerate(tweets) if int(t.id) < last_shown), len(tweets))


def _user_not_found(user_id: str) -> dict[str, str]:
    return {
        "value": user_id,
        "detail": f"Could not find user with id: [{user_id}].",
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": "id",
        "resource_id": user_id,
        "type": "https://api.x.com/2/problems/resource-not-found",
    }
