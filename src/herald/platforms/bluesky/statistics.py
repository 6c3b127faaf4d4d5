"""Reading a Bluesky account's numbers back through its PDS (which proxies app.bsky.* to the
AppView): app.bsky.feed.getPosts for likes, replies, reposts, quotes and bookmarks of up to 25
posts a call, app.bsky.actor.getProfile for followers, follows and posts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from herald.net.http_client import HttpError, HttpResponse
from herald.platforms.base import PostMetrics, ProfileMetrics, RetryableError
from herald.platforms.bluesky.session import Account, Session, SessionCache
from herald.platforms.bluesky.xrpc import Pds, XrpcError, failure, unreachable

GET_POSTS = "app.bsky.feed.getPosts"
GET_PROFILE = "app.bsky.actor.getProfile"
URIS_PER_CALL = 25  # getPosts' documented maximum


def _count(view: dict[str, Any], name: str) -> int | None:
    value = view.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


async def _call(
    sessions: SessionCache, pds: Pds, account: Account, nsid: str, subject: str
) -> dict[str, Any]:
    async def send(session: Session) -> HttpResponse:
        # The query goes in the path: getPosts repeats `uris`, which a mapping cannot hold.
        return await pds.get(nsid, {}, token=session.access_jwt)

    try:
        session, response = await sessions.call(pds, account, send)
    except HttpError as exc:
        raise unreachable(exc) from None
    if response.status_code != 200:
        raise failure(XrpcError.of(response), subject, session.secrets(account))
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RetryableError(f"Bluesky answered {subject} with an unreadable body")
    return body


async def post_metrics(
    sessions: SessionCache, pds: Pds, account: Account, uris: Sequence[str]
) -> dict[str, PostMetrics | None]:
    found: dict[str, PostMetrics | None] = dict.fromkeys(uris)
    wanted = [uri for uri in uris if uri.startswith("at://")]
    for start in range(0, len(wanted), URIS_PER_CALL):
        chunk = wanted[start : start + URIS_PER_CALL]
        query = urlencode([("uris", uri) for uri in chunk])
        body = await _call(sessions, pds, account, f"{GET_POSTS}?{query}", "the post statistics")
        posts = body.get("posts")
        for view in posts if isinstance(posts, list) else []:
            uri = view.get("uri") if isinstance(view, dict) else None
            if uri in found:  # a post the AppView does not have is simply left out
                found[uri] = PostMetrics(
                    reactions=_count(view, "likeCount"),
                    comments=_count(view, "replyCount"),
                    reposts=_count(view, "repostCount"),
                    quotes=_count(view, "quoteCount"),
                    saves=_count(view, "bookmarkCount"),
                )
    return found


async def profile_metrics(
    sessions: SessionCache, pds: Pds, account: Account, did: str
) -> ProfileMetrics:
    query = urlencode({"actor": did})
    body = await _call(sessions, pds, account, f"{GET_PROFILE}?{query}", "the profile statistics")
    return ProfileMetrics(
        followers=_count(body, "followersCount"),
        following=_count(body, "followsCount"),
        posts=_count(body, "postsCount"),
    )
