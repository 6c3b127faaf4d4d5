"""POST /2/tweets and DELETE /2/tweets/:id, with X's checks in its order."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from herald.domain.platform import Platform
from herald.domain.text import measure
from herald.sim.faults import hold
from herald.sim.x.entities import tweet_entity
from herald.sim.x.http import (
    ApiError,
    add_headers,
    blank_problem,
    enter,
    invalid_request,
    not_found,
    read_json,
    respond,
    sim_of,
    too_many,
)
from herald.sim.x.state import SimTweet, XSim
from herald.sim.x.tokens import AccessToken

WRITE_SCOPES = ("tweet.read", "tweet.write", "users.read")  # X's OpenAPI `security` blocks
DAY_S = 86400.0
REPLY_SETTINGS = ("following", "mentionedUsers", "subscribers", "verified")
# The body fields X's create-post request takes (X API v2 OpenAPI, TweetCreateRequest).
BODY_FIELDS = frozenset(
    [
        "card_uri",
        "community_id",
        "direct_message_deep_link",
        "edit_options",
        "for_super_followers_only",
        "geo",
        "made_with_ai",
        "media",
        "nullcast",
        "paid_partnership",
        "poll",
        "quote_tweet_id",
        "reply",
        "reply_settings",
        "share_with_followers",
        "text",
    ]
)
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
REPLY_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
QUOTE_GONE = "You attempted to quote a Tweet that is deleted or not visible to you."
BAD_MEDIA = "Your media IDs are invalid."


async def create_tweet(request: Request) -> Response:
    sim = sim_of(request)
    sim.stats.creates += 1
    token = await enter(request, "tweets:create", WRITE_SCOPES, sim.config.tweets_per_window)
    _daily_caps(request, sim, token)
    body = await read_json(request)
    sim.record("POST /2/tweets", body)
    draft = _draft(sim, token, body)
    fault = sim.injector.next_fault(sim.config.common.faults)
    if fault is not None and fault not in ("error_after_create", "lost_response"):
        raise await _refusal(request, sim, token, fault)
    tweet = sim.create_tweet(draft)
    if fault == "error_after_create":
        raise blank_problem(500, "Internal Server Error")
    if fault == "lost_response":
        await hold(request, sim.config.common.hang_s)
    return respond(request, {"data": tweet_entity(tweet, frozenset())}, 201)


def _daily_caps(request: Request, sim: XSim, token: AccessToken) -> None:
    """The 24-hour caps on creating tweets, per app and per user, with their own headers."""
    config, grant = sim.config, token.grant
    caps = (
        ("x-app-limit-24hour", ("app", grant.client_id), config.app_tweets_per_day),
        ("x-user-limit-24hour", ("user-day", grant.user.id), config.user_tweets_per_day),
    )
    over = False
    for prefix, key, limit in caps:
        if limit is not None:
            window = sim.windows.count(key, limit, DAY_S)
            add_headers(request, window.headers(prefix))
            over = over or window.remaining < 0
    if over:
        raise too_many(request)


def _draft(sim: XSim, token: AccessToken, body: dict[str, Any]) -> dict[str, Any]:
    """The tweet to create, or the ApiError X answers a body it refuses."""
    unknown = sorted(set(body) - BODY_FIELDS)
    if unknown:
        raise invalid_request(unknown[0], "", f"The `{unknown[0]}` field is not a valid field.")
    text = body.get("text", "")
    if not isinstance(text, str):
        raise invalid_request("text", text, "text must be a string")
    media_ids = _media_ids(sim, token, body.get("media"))
    parent = _referenced(sim, body.get("reply"), "reply", REPLY_GONE)
    quoted = _referenced(sim, body.get("quote_tweet_id"), "quote_tweet_id", QUOTE_GONE)
    settings = body.get("reply_settings")
    if settings is not None and settings not in REPLY_SETTINGS:
        raise invalid_request("reply_settings", settings, "reply_settings is not valid")
    if not text.strip() and not media_ids and "poll" not in body and quoted is None:
        raise invalid_request("text", text, "Post text is empty.")
    if measure(Platform.TWITTER, text) > sim.config.max_weighted_length:
        raise invalid_request("text", text, "Post text is too long.")
    if _duplicate(sim, token, text):
        sim.stats.duplicates += 1
        raise blank_problem(403, "Forbidden", DUPLICATE)
    return {
        "author": token.grant.user,
        "client_id": token.grant.client_id,
        "text": text,
        "in_reply_to": parent,
        "quoted": quoted,
        "media_ids": media_ids,
        "media_keys": [sim.media[media_id].key for media_id in media_ids],
        "reply_settings": settings,
    }


def _referenced(sim: XSim, value: object, field: str, gone: str) -> SimTweet | None:
    """The reply parent (`reply.in_reply_to_tweet_id`) or the quoted tweet, which must exist."""
    if value is None:
        return None
    tweet_id = value.get("in_reply_to_tweet_id") if isinstance(value, dict) else value
    if field == "reply" and not isinstance(value, dict):
        raise invalid_request("reply", value, "reply must be an object")
    if not isinstance(tweet_id, str) or not tweet_id.isdecimal():
        raise invalid_request(field, str(tweet_id), f"{field} must name a post id")
    tweet = sim.live_tweet(tweet_id)
    if tweet is None:
        raise blank_problem(403, "Forbidden", gone)
    return tweet


def _media_ids(sim: XSim, token: AccessToken, media: object) -> list[str]:
    if media is None:
        return []
    ids = media.get("media_ids") if isinstance(media, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise invalid_request("media.media_ids", str(ids), "media_ids must be a list of ids")
    if len(ids) > sim.config.max_media_per_tweet:
        raise invalid_request("media.media_ids", ids, BAD_MEDIA)
    refusal = sim.media_refusal(ids, token.grant.user.id)
    if refusal is not None:
        raise invalid_request("media.media_ids", ids, refusal)
    return ids


def _duplicate(sim: XSim, token: AccessToken, text: str) -> bool:
    """Identical non-empty text from the same user within `duplicate_window_s`. X's real rule
    is not published; this one is the behaviour clients report."""
    if not text.strip():
        return False
    since = time.time() - sim.config.duplicate_window_s
    same = sim.by_text.get((token.grant.user.id, text), [])
    return any(not t.deleted and t.created_at.timestamp() > since for t in same)


async def _refusal(request: Request, sim: XSim, token: AccessToken, fault: str) -> ApiError:
    """The error of a fault that creates nothing."""
    if fault == "rate_limit":
        limit = sim.config.tweets_per_window or 100
        key = (token.grant.user.id, "tweets:create")
        return too_many(request, sim.windows.exhaust(key, limit, sim.config.common.retry_after_s))
    if fault == "rejected":
        return invalid_request("text", "", "rejected by fault injection")
    if fault == "timeout":
        await hold(request, sim.config.common.hang_s)
    return blank_problem(503, "Service Unavailable")


async def delete_tweet(request: Request) -> Response:
    sim = sim_of(request)
    token = await enter(request, "tweets:delete", WRITE_SCOPES, sim.config.deletes_per_window)
    tweet_id = request.path_params["id"]
    tweet = sim.live_tweet(tweet_id)
    if tweet is None:
        raise not_found("tweet", "id", tweet_id)
    if tweet.author.id != token.grant.user.id:
        raise blank_problem(403, "Forbidden", "You are not authorized to delete this Tweet.")
    tweet.deleted = True
    sim.stats.deletes += 1
    return respond(request, {"data": {"deleted": True}})
