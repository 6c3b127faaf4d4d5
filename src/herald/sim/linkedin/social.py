"""Social actions: comments on a post (as its first comment uses them) and reactions."""

from __future__ import annotations

import time
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.linkedin.http import LinkedInError, created, enter, read_json, sim_of
from herald.sim.linkedin.posts import post_of

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
