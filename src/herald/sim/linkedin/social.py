"""Social actions: comments on a post (as its first comment uses them) and reactions."""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.linkedin.http import LinkedInError, created, enter, read_json, sim_of
from herald.sim.linkedin.posts import post_of
from herald.sim.linkedin.state import LinkedInSim, Post

REACTIONS = ("LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION", "ENTERTAINMENT")


async def create_comment(request: Request) -> Response:
    """POST /rest/socialActions/{urn}/comments {"actor", "object", "message": {"text"}}."""
    grant = await enter(request)
    sim = sim_of(request)
    post = post_of(request)
    body = await read_json(request)
    actor = body.get("actor")
    text = (
        (body.get("message") or {}).get("text") if isinstance(body.get("message"), dict) else None
    )
    if not isinstance(actor, str) or not sim.can_post_as(grant.member, actor):
        raise LinkedInError(
            403, f"Not enough permissions to comment as {actor}", "ACCESS_DENIED", 100
        )
    if not isinstance(text, str) or not text or len(text) > 1250:
        raise LinkedInError(422, "ERROR :: /message/text :: 1 to 1250 characters", "INVALID_VALUE")
    comment_id = str(sim.next_id())
    urn = f"urn:li:comment:({post.urn},{comment_id})"
    now = int(time.time() * 1000)
    comment = {
        "id": comment_id,
        "commentUrn": urn,
        "actor": actor,
        "object": post.urn,
        "message": {"text": text},
        "created": {"actor": actor, "time": now},
        "lastModified": {"actor": actor, "time": now},
    }
    post.comments.append(comment)
    sim.stats["comments"] += 1
    return created(urn, comment)


async def delete_comment(request: Request) -> Response:
    """DELETE /rest/socialActions/{urn}/comments/{id}?actor=…"""
    await enter(request)
    post = post_of(request)
    wanted = unquote(request.path_params["comment"])
    kept = [c for c in post.comments if c["id"] != wanted and c["commentUrn"] != wanted]
    if len(kept) == len(post.comments):
        raise LinkedInError(404, f"Comment {wanted} not found", "NOT_FOUND")
    post.comments = kept
    return Response(status_code=204)


async def create_reaction(request: Request) -> Response:
    """POST /rest/reactions?actor={urn} {"root", "reactionType"}."""
    grant = await enter(request)
    sim = sim_of(request)
    actor = request.query_params.get("actor", "")
    body = await read_json(request)
    post = sim.posts.get(str(body.get("root")))
    if post is None:
        raise LinkedInError(404, f"Post {body.get('root')} not found", "NOT_FOUND")
    if not sim.can_post_as(grant.member, actor) or body.get("reactionType") not in REACTIONS:
        raise LinkedInError(422, "ERROR :: /reactionType :: invalid", "INVALID_VALUE")
    if actor in post.reactions:
        raise LinkedInError(409, "Reaction already exists", "DUPLICATE_REACTION")
    post.reactions[actor] = str(body["reactionType"])
    post.reacted_ms[actor] = int(time.time() * 1000)
    sim.stats["reactions"] += 1
    return created(f"urn:li:reaction:({actor},{post.urn})")


async def social_metadata(request: Request) -> Response:
    """GET /rest/socialMetadata/{urn}: counts by reaction type and comments."""
    await enter(request)
    post = post_of(request)
    summaries = {
        t: {"reactionType": t, "count": list(post.reactions.values()).count(t)} for t in REACTIONS
    }
    return JSONResponse(
        {
            "entity": post.urn,
            "reactionSummaries": summaries,
            "commentSummary": {"count": len(post.comments), "topLevelCount": len(post.comments)},
            "commentsState": "OPEN",
        }
    )


_REACTION_KEY = re.compile(r"\(actor:(?P<actor>[^,]+),entity:(?P<entity>.+)\)")


async def delete_reaction(request: Request) -> Response:
    """DELETE /rest/reactions/(actor:{urn},entity:{urn}) -> 200 with the removed reaction."""
    await enter(request)
    sim = sim_of(request)
    found = _REACTION_KEY.fullmatch(unquote(request.path_params["key"]))
    post = sim.posts.get(unquote(found.group("entity"))) if found else None
    actor = unquote(found.group("actor")) if found else ""
    if post is None or actor not in post.reactions:
        raise LinkedInError(404, "Reaction not found", "NOT_FOUND")
    kind = post.reactions.pop(actor)
    return JSONResponse({"reactionType": kind, "root": post.urn, "actor": actor})


_ENTITY = re.compile(r"\((?:share|ugcPost):(?P<urn>.+)\)")
_METRIC_TYPE = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"
METRICS = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT")


async def post_analytics(request: Request) -> Response:
    """GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:urn)&queryType=&aggregation=
    TOTAL: reactions, comments and reshares as stored; impressions and members reached as a
    steady number per post [chosen] (a few hundred to a few thousand, reach below views)."""
    await enter(request)
    sim = sim_of(request)
    query = request.query_params
    if query.get("q") == "me":
        return await member_analytics(request)
    found = _ENTITY.fullmatch(query.get("entity", ""))
    metric = query.get("queryType", "")
    if query.get("q") != "entity" or found is None or metric not in METRICS:
        raise LinkedInError(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")
    post = sim.posts.get(unquote(found.group("urn")))
    if post is None:
        raise LinkedInError(404, f"Post {found.group('urn')} not found", "NOT_FOUND")
    element = {
        "count": metric_count(sim, post, metric),
        "metricType": {_METRIC_TYPE: metric},
        "targetEntity": {"share" if post.urn.startswith("urn:li:share:") else "ugcPost": post.urn},
    }
    return JSONResponse({"paging": {"start": 0, "count": 10, "links": []}, "elements": [element]})


def metric_count(sim: LinkedInSim, post: Post, metric: str) -> int:
    """Reactions, comments and reshares as stored; views and reach a steady figure per post
    [chosen]: a few hundred to a few thousand, reach three fifths of views."""
    if metric == "REACTION":
        return len(post.reactions)
    if metric == "COMMENT":
        return len(post.comments)
    if metric == "RESHARE":
        return sum(
            1
            for other in sim.posts.values()
            if (other.body.get("reshareContext") or {}).get("parent") == post.urn
        )
    seed = int.from_bytes(hashlib.sha256(post.urn.encode()).digest()[:4], "big")
    views = 300 + seed % 4700
    return views if metric == "IMPRESSION" else views * 3 // 5


async def member_analytics(request: Request) -> Response:
    """GET /rest/memberCreatorPostAnalytics?q=me&queryType=&aggregation=TOTAL: the metric
    summed over the caller's own posts."""
    grant = await enter(request)
    sim = sim_of(request)
    metric = request.query_params.get("queryType", "")
    if metric not in METRICS:
        raise LinkedInError(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")
    total = sum(
        metric_count(sim, post, metric)
        for post in sim.posts.values()
        if post.author == grant.member.urn
    )
    return JSONResponse({"elements": [{"count": total, "metricType": {_METRIC_TYPE: metric}}]})
