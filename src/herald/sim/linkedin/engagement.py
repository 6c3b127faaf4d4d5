"""Reading engagement back, as LinkedIn's Community Management API answers it: a page's posts
(GET /rest/posts?q=author), a post's comments (GET /rest/socialActions/{urn}/comments), its
reactions (GET /rest/reactions/(entity:{urn})?q=entity) and a member's name
(GET /rest/people/(id:{id}))."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.linkedin.http import LinkedInError, enter, sim_of
from herald.sim.linkedin.posts import post_of

_ENTITY_KEY = re.compile(r"\(entity:(?P<entity>.+)\)")
_PERSON_KEY = re.compile(r"\(id:(?P<id>[^)]+)\)")


def _count(request: Request, default: int = 10) -> int:
    try:
        return max(1, min(100, int(request.query_params.get("count", default))))
    except ValueError:
        return default


def _page(elements: list[dict[str, Any]], count: int) -> dict[str, Any]:
    return {
        "paging": {"start": 0, "count": count, "total": len(elements), "links": []},
        "elements": elements[:count],
    }


async def posts_by_author(request: Request) -> Response:
    """GET /rest/posts?q=author&author={urn}: the author's posts, newest first."""
    await enter(request)
    sim = sim_of(request)
    author = request.query_params.get("author", "")
    if request.query_params.get("q") != "author" or not author:
        raise LinkedInError(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")
    mine = sorted(
        (p for p in sim.posts.values() if p.author == author),
        key=lambda p: p.created_ms,
        reverse=True,
    )
    elements = [
        {**p.body, "id": p.urn, "createdAt": p.created_ms, "publishedAt": p.created_ms}
        for p in mine
    ]
    return JSONResponse(_page(elements, _count(request)))


async def list_comments(request: Request) -> Response:
    """GET /rest/socialActions/{urn}/comments: the post's comments, oldest first."""
    await enter(request)
    post = post_of(request)
    return JSONResponse(_page(list(post.comments), _count(request)))


async def list_reactions(request: Request) -> Response:
    """GET /rest/reactions/(entity:{urn})?q=entity: who reacted how, and when."""
    await enter(request)
    sim = sim_of(request)
    found = _ENTITY_KEY.fullmatch(unquote(request.path_params["key"]))
    if request.query_params.get("q") != "entity" or found is None:
        raise LinkedInError(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")
    post = sim.posts.get(unquote(found.group("entity")))
    if post is None:
        raise LinkedInError(404, f"Post {found.group('entity')} not found", "NOT_FOUND")
    elements = [
        {
            "id": f"urn:li:reaction:({actor},{post.urn})",
            "root": post.urn,
            "reactionType": kind,
            "created": {"actor": actor, "time": post.reacted_ms.get(actor, post.created_ms)},
            "lastModified": {"actor": actor, "time": post.reacted_ms.get(actor, post.created_ms)},
        }
        for actor, kind in post.reactions.items()
    ]
    return JSONResponse(_page(elements, _count(request)))


async def person(request: Request) -> Response:
    """GET /rest/people/(id:{id}): a member's localized name, for mentions."""
    await enter(request)
    sim = sim_of(request)
    found = _PERSON_KEY.fullmatch(unquote(request.path_params["key"]))
    member = sim.members.get(found.group("id")) if found else None
    if member is None:
        raise LinkedInError(404, "Member not found", "NOT_FOUND")
    return JSONResponse(
        {
            "id": member.sub,
            "localizedFirstName": member.given_name,
            "localizedLastName": member.family_name,
        }
    )
