"""The Posts API (POST/GET/DELETE /rest/posts) with LinkedIn's checks, in its order: token,
version, body, author, media, daily quota, duplicate, then the scripted fault."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.faults import hold
from herald.sim.linkedin.http import LinkedInError, created, enter, read_json, sim_of
from herald.sim.linkedin.state import LinkedInSim, Post

MAX_COMMENTARY = 3000  # [docs] characters
_MEDIA_KINDS = {"urn:li:image:": "image", "urn:li:video:": "video", "urn:li:document:": "document"}


def _invalid(field: str, message: str) -> LinkedInError:
    return LinkedInError(
        422,
        f"ERROR :: /{field} :: {message}",
        extra={
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "errorDetails": {
                "inputErrors": [
                    {
                        "description": message,
                        "input": {"inputPath": {"fieldPath": field}},
                        "code": "INVALID_VALUE",
                    }
                ]
            },
        },
    )


def _check_body(sim: LinkedInSim, body: dict[str, Any]) -> None:
    for name in ("author", "visibility", "lifecycleState"):
        if not isinstance(body.get(name), str):
            raise _invalid(name, "field is required but not found and has no default value")
    if body["lifecycleState"] != "PUBLISHED":
        raise _invalid("lifecycleState", "only PUBLISHED is simulated")
    if body["visibility"] not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN"):
        raise _invalid("visibility", f"{body['visibility']} is not a valid visibility")
    commentary = body.get("commentary", "")
    if not isinstance(commentary, str) or len(commentary) > MAX_COMMENTARY:
        raise _invalid("commentary", f"length must be at most {MAX_COMMENTARY}")
    if not isinstance(body.get("distribution"), dict):
        raise _invalid("distribution", "field is required but not found and has no default value")
    _check_media(sim, body)


def _check_media(sim: LinkedInSim, body: dict[str, Any]) -> None:
    for urn in media_urns(body.get("content")):
        kind = next((k for p, k in _MEDIA_KINDS.items() if urn.startswith(p)), None)
        asset = sim.assets.get(urn)
        if kind is None or asset is None or asset.owner != body["author"]:
            raise _invalid("content", f"{urn} is not a valid media for this author")
        if asset.current_status() != "AVAILABLE":
            raise _invalid("content", f"{urn} is not AVAILABLE (status {asset.status})")
    parent = (
        (body.get("reshareContext") or {}).get("parent")
        if isinstance(body.get("reshareContext"), dict)
        else None
    )
    if parent is not None and parent not in sim.posts:
        raise LinkedInError(404, f"Parent post {parent} not found", "NOT_FOUND")


def media_urns(content: object) -> list[str]:
    if not isinstance(content, dict):
        return []
    media = content.get("media")
    if isinstance(media, dict):
        return [str(media.get("id"))]
    multi = content.get("multiImage")
    if isinstance(multi, dict) and isinstance(multi.get("images"), list):
        images = multi["images"]
        if not 2 <= len(images) <= 20:
            raise _invalid("content/multiImage/images", "must hold 2 to 20 images")
        return [str(i.get("id")) if isinstance(i, dict) else "" for i in images]
    return []


async def create_post(request: Request) -> Response:
    grant = await enter(request)
    sim = sim_of(request)
    body = await read_json(request)
    sim.stats["creates"] += 1
    _check_body(sim, body)
    author = body["author"]
    needed = "w_member_social" if author.startswith("urn:li:person:") else "w_organization_social"
    if needed not in grant.scope or not sim.can_post_as(grant.member, author):
        raise LinkedInError(
            403,
            f"Unpermitted fields present in REQUEST_BODY: author {author}",
            "ACCESS_DENIED",
            100,
        )
    if not sim.count_post(grant.member):
        sim.stats["quota_refusals"] += 1
        # [recall] daily limits reset at midnight UTC; no header says when
        raise LinkedInError(
            429,
            "Resource level throttle 1 DAY limit for calls to this resource is reached.",
            "TOO_MANY_REQUESTS",
            101,
        )
    earlier = sim.duplicate_of(author, body)
    if earlier is not None:
        sim.stats["duplicates"] += 1
        raise LinkedInError(
            422,
            f"Content is a duplicate of {earlier.urn}",
            extra={
                "errorDetailType": "com.linkedin.common.error.BadRequest",
                "errorDetails": {
                    "inputErrors": [
                        {
                            "description": "Duplicate post is detected",
                            "input": {},
                            "code": "DUPLICATE_POST",
                        }
                    ]
                },
            },
        )
    fault = sim.injector.next_fault(sim.config.common.faults)
    common = sim.config.common
    if fault == "rate_limit":
        # [chosen] a short-term throttle, with Retry-After so a client need not guess
        raise LinkedInError(
            429,
            "Too many requests",
            "TOO_MANY_REQUESTS",
            101,
            headers={"Retry-After": str(common.retry_after_s)},
        )
    if fault == "unavailable":
        raise LinkedInError(503, "Service unavailable", "SERVICE_UNAVAILABLE")
    if fault == "rejected":
        raise _invalid("commentary", "rejected by fault injection")
    if fault == "timeout":
        await hold(request, common.hang_s)
        raise LinkedInError(504, "Gateway timeout", "GATEWAY_TIMEOUT")
    urn = f"urn:li:{'share' if body.get('content') is None else 'ugcPost'}:{sim.next_id()}"
    sim.store(Post(urn, author, body, int(time.time() * 1000), grant.app.client_id))
    sim.stats["posts"] += 1
    if fault == "error_after_create":
        raise LinkedInError(500, "Internal Server Error", "INTERNAL_SERVER_ERROR")
    if fault == "lost_response":
        await hold(request, common.hang_s)
    return created(urn)


def post_of(request: Request, name: str = "urn") -> Post:
    urn = unquote(request.path_params[name])
    post = sim_of(request).posts.get(urn)
    if post is None:
        raise LinkedInError(404, f"Post {urn} not found", "NOT_FOUND")
    return post


async def get_post(request: Request) -> Response:
    await enter(request)
    post = post_of(request)
    return JSONResponse(
        {
            **post.body,
            "id": post.urn,
            "createdAt": post.created_ms,
            "publishedAt": post.created_ms,
            "lastModifiedAt": post.created_ms,
        }
    )


async def delete_post(request: Request) -> Response:
    await enter(request, "w_member_social")
    post = post_of(request)
    del sim_of(request).posts[post.urn]
    return Response(status_code=204)
