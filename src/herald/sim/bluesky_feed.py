"""app.bsky.feed.getPosts as an AppView answers it through the PDS: post views with their
engagement counts, up to 25 URIs a call, posts it does not have left out (not an error)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.bluesky_record import POST
from herald.sim.bluesky_state import BlueskySim, XrpcError, invalid

MAX_URIS = 25
COUNTS = ("replyCount", "repostCount", "likeCount", "quoteCount", "bookmarkCount")


async def get_posts(request: Request, sim: BlueskySim) -> Response:
    sim.authenticate(request)
    if not sim.config.appview:
        raise XrpcError(502, "UpstreamFailure", "Upstream Failure")
    uris = request.query_params.getlist("uris")
    if not uris:
        raise invalid('Error: Params must have the property "uris"')
    if len(uris) > MAX_URIS:
        raise invalid(f"Error: uris must not have more than {MAX_URIS} elements")
    views = []
    for uri in uris:
        stored = sim.record_at(uri)
        if stored is None or stored.collection != POST:
            continue
        author = sim.account(stored.did)
        counts = sim.engagement.get(uri, {})
        views.append(
            {
                "uri": stored.uri,
                "cid": stored.cid,
                "author": {"did": stored.did, "handle": author.handle if author else ""},
                "record": stored.value,
                **{name: counts.get(name, 0) for name in COUNTS},
                "indexedAt": stored.created_at.isoformat().replace("+00:00", "Z"),
                "labels": [],
            }
        )
    return JSONResponse({"posts": views})
