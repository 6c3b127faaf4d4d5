"""JSON as X renders it: users, tweets (with t.co-wrapped URLs), timestamps."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from herald.domain.text_count import url_spans
from herald.sim.x.config import XUser
from herald.sim.x.state import SimTweet

# The fields X's `user.fields` and `tweet.fields` accept (X API v2 reference); asking for
# another is a 400. Those this simulator does not model are accepted and left out.
USER_FIELDS = frozenset(
    [
        "affiliation",
        "confirmed_email",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "is_identity_verified",
        "location",
        "most_recent_tweet_id",
        "name",
        "parody",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_followers_count",
        "verified_type",
        "withheld",
    ]
)
TWEET_FIELDS = frozenset(
    [
        # Names X's OpenAPI (v2.168, where the parameter is `post.fields`) adds.
        "article_title",
        "matched_media_notes",
        "note_post",
        "note_request_suggestions",
        "paid_partnership",
        "suggested_source_links_with_counts",
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "suggested_source_links",
        "text",
        "withheld",
    ]
)
DEFAULT_IMAGE = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"


def timestamp(moment: datetime) -> str:
    """X's timestamps: UTC with milliseconds and a Z, e.g. 2026-12-05T16:45:43.000Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def user_entity(user: XUser, fields: frozenset[str]) -> dict[str, Any]:
    entity: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
    if "profile_image_url" in fields:
        entity["profile_image_url"] = user.profile_image_url or DEFAULT_IMAGE
    if "verified" in fields:
        entity["verified"] = user.verified
    if "protected" in fields:
        entity["protected"] = False
    return entity


def short_link(url: str) -> str:
    """The t.co link X puts in place of a URL: the same URL always gets the same link."""
    digest = hashlib.sha256(url.encode()).hexdigest()
    return f"https://t.co/{digest[:10]}"


def wrapped(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The text as X shows it, each URL replaced by its t.co link, and the URL entities (start
    and end in code points of the shown text)."""
    shown, urls, last = "", [], 0
    for start, end in url_spans(text):
        shown += text[last:start]
        url, link = text[start:end], short_link(text[start:end])
        display = url.split("://", 1)[1]
        urls.append(
            {
                "start": len(shown),
                "end": len(shown) + len(link),
                "url": link,
                "expanded_url": url,
                "display_url": display if len(display) <= 26 else display[:25] + "\u2026",
            }
        )
        shown += link
        last = end
    return shown + text[last:], urls


def tweet_entity(tweet: SimTweet, fields: frozenset[str]) -> dict[str, Any]:
    text, urls = wrapped(tweet.text)
    entity: dict[str, Any] = {"id": tweet.id, "text": text, "edit_history_tweet_ids": [tweet.id]}
    if "author_id" in fields:
        entity["author_id"] = tweet.author.id
    if "created_at" in fields:
        entity["created_at"] = timestamp(tweet.created_at)
    entity.update(_references(tweet, fields))
    if "attachments" in fields and tweet.media_keys:
        entity["attachments"] = {"media_keys": list(tweet.media_keys)}
    if "entities" in fields and urls:
        entity["entities"] = {"urls": urls}
    if "reply_settings" in fields:
        entity["reply_settings"] = tweet.reply_settings or "everyone"
    return entity


def _references(tweet: SimTweet, fields: frozenset[str]) -> dict[str, Any]:
    """The fields that tie a tweet to others: its conversation, reply parent and quote."""
    found: dict[str, Any] = {}
    if "conversation_id" in fields:
        root = tweet
        while root.in_reply_to is not None:
            root = root.in_reply_to
        found["conversation_id"] = root.id
    if "in_reply_to_user_id" in fields and tweet.in_reply_to is not None:
        found["in_reply_to_user_id"] = tweet.in_reply_to.author.id
    refs = [("replied_to", tweet.in_reply_to), ("quoted", tweet.quoted)]
    referenced = [{"type": kind, "id": ref.id} for kind, ref in refs if ref is not None]
    if "referenced_tweets" in fields and referenced:
        found["referenced_tweets"] = referenced
    return found
