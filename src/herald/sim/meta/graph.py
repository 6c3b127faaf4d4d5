"""The node and edge routes of the Graph (graph.facebook.com) and Threads (graph.threads.net)
hosts, with or without a version prefix: which node an id names decides what is answered."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from herald.sim.meta.containers import (
    container_status,
    create_container,
    limit_answer,
    publish_container,
)
from herald.sim.meta.http import GraphError, enter, params_of, respond, sim_of, unknown_node
from herald.sim.meta.pages import feed, photos, videos
from herald.sim.meta.state import MetaSim, Published, Token

_VERSION = re.compile(r"v\d+\.\d+")


def _path(request: Request) -> list[str]:
    parts = [p for p in request.url.path.split("/") if p]
    if parts and _VERSION.fullmatch(parts[0]):
        parts = parts[1:]
    return parts


def _fields(params: dict[str, str]) -> set[str]:
    return {f.strip() for f in params.get("fields", "").split(",") if f.strip()}


def _owns(token: Token, sim: MetaSim, node: str) -> bool:
    """Whether the token may act for the Page, Instagram account or Threads profile `node`."""
    if token.kind == "threads":
        return token.user.threads_id == node
    if token.page is not None:
        return node in {token.page.id, token.page.instagram_id}
    return any(node in {p.id, p.instagram_id} for p in token.user.pages)


def _me(sim: MetaSim, token: Token, params: dict[str, str]) -> dict[str, object]:
    if token.kind == "threads":
        user = token.user
        return {
            "id": user.threads_id,
            "username": user.threads_username,
            "name": user.name,
            "threads_profile_picture_url": "",
        }
    if token.page is not None:
        return {"id": token.page.id, "name": token.page.name}
    return {"id": token.user.id, "name": token.user.name}


def _accounts(sim: MetaSim, token: Token) -> dict[str, object]:
    data = []
    for page in token.user.pages:
        page_token = sim.mint("page", token.user, long_lived=token.long_lived, page=page)
        entry: dict[str, object] = {
            "id": page.id,
            "name": page.name,
            "access_token": page_token.value,
            "category": "Software",
            "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE"],
        }
        if page.instagram_id:
            entry["instagram_business_account"] = {
                "id": page.instagram_id,
                "username": page.instagram_username,
            }
        data.append(entry)
    return {"data": data, "paging": {"cursors": {"before": "MA", "after": "MA"}}}


# How Instagram lists what a container made [docs]: Reels are VIDEO with the REELS product,
# carousels CAROUSEL_ALBUM, stories STORY (listed under /stories only).
_IG_TYPES = {
    "REELS": ("VIDEO", "REELS"),
    "CAROUSEL": ("CAROUSEL_ALBUM", "FEED"),
    "STORIES": ("IMAGE", "STORY"),
    "IMAGE": ("IMAGE", "FEED"),
    "VIDEO": ("VIDEO", "FEED"),
}


def _published_wire(item: Published, fields: set[str]) -> dict[str, object]:
    wire: dict[str, object] = {"id": item.id}
    media_type, product = item.media_type, None
    if item.host == "instagram":
        media_type, product = _IG_TYPES.get(item.media_type, (item.media_type, "FEED"))
        if item.media_type == "STORIES" and "video_url" in item.extra:
            media_type = "VIDEO"
    stamp = item.timestamp.strftime("%Y-%m-%dT%H:%M:%S+0000")
    values: dict[str, object] = {
        "permalink": item.permalink,
        "permalink_url": item.permalink,
        "shortcode": item.shortcode,
        "caption": item.text,
        "text": item.text,
        "message": item.text,
        "media_type": media_type,
        "media_product_type": product,
        "timestamp": stamp,
        "created_time": stamp,
        "is_reply": item.reply_to_id is not None,
        "replied_to": {"id": item.reply_to_id} if item.reply_to_id else None,
    }
    for name in fields:
        if name in values and values[name] is not None:
            wire[name] = values[name]
    return wire


def _node(sim: MetaSim, token: Token, node: str, params: dict[str, str]) -> dict[str, object]:
    fields = _fields(params)
    container = sim.containers.get(node)
    if container is not None and _owns(token, sim, container.owner_id):
        sim.stats.status_polls += 1
        status = container_status(sim, container)
        wire: dict[str, object] = {"id": node}
        if container.host == "instagram":
            wire["status_code"] = status
            if status == "ERROR":
                wire["status"] = f"Error: {container.error_message}"
        else:
            wire["status"] = status
            if status == "ERROR":
                wire["error_message"] = container.error_message
        return wire
    item = sim.published.get(node)
    if item is not None and _owns(token, sim, item.owner_id):
        return _published_wire(item, fields or {"id"})
    found = sim.instagram(node)
    if found is not None and _owns(token, sim, node):
        page = found[1]
        return {"id": node, "username": page.instagram_username, "name": page.name}
    page_of = sim.page(node)
    if page_of is not None and _owns(token, sim, node):
        page = page_of[1]
        answer: dict[str, object] = {"id": page.id, "name": page.name}
        if page.instagram_id and "instagram_business_account" in fields:
            answer["instagram_business_account"] = {"id": page.instagram_id}
        return answer
    if token.kind == "threads" and token.user.threads_id == node:
        return _me(sim, token, params)
    raise unknown_node(node)


def _listing(
    sim: MetaSim,
    owner: str,
    host: str,
    replies: bool | None,
    fields: set[str],
    *,
    stories: bool = False,
) -> Response:
    items = [
        p
        for p in sim.published.values()
        if p.owner_id == owner
        and p.host == host
        and (replies is None or (p.reply_to_id is not None) == replies)
        and (host != "instagram" or (p.media_type == "STORIES") == stories)
    ]
    items.sort(key=lambda p: p.timestamp, reverse=True)
    return respond({"data": [_published_wire(p, fields | {"id"}) for p in items[:100]]})


async def read(request: Request) -> Response:
    sim = sim_of(request)
    params = await params_of(request)
    token = await enter(request, params, "user", "page", "threads")
    parts = _path(request)
    if parts == ["me"]:
        return respond(_me(sim, token, params))
    if parts == ["me", "accounts"] and token.kind == "user":
        return respond(_accounts(sim, token))
    if len(parts) == 1:
        return respond(_node(sim, token, parts[0], params))
    if len(parts) != 2 or not _owns(token, sim, parts[0]):
        raise unknown_node("/".join(parts))
    node, edge = parts
    fields = _fields(params)
    if edge == "content_publishing_limit" and sim.instagram(node):
        return limit_answer(sim, node, sim.config.instagram_quota, params.get("fields", ""))
    if edge == "threads_publishing_limit" and token.kind == "threads":
        return limit_answer(sim, node, sim.config.threads_quota, params.get("fields", ""))
    if edge in {"media", "stories"} and sim.instagram(node):
        return _listing(sim, node, "instagram", None, fields, stories=edge == "stories")
    if edge in {"threads", "replies"} and token.kind == "threads":
        return _listing(sim, node, "threads", edge == "replies", fields)
    if edge in {"feed", "published_posts"} and sim.page(node):
        return _listing(sim, node, "facebook", None, fields)
    raise unknown_node("/".join(parts))


async def write(request: Request) -> Response:
    sim = sim_of(request)
    params = await params_of(request)
    token = await enter(request, params, "user", "page", "threads")
    parts = _path(request)
    if len(parts) != 2:
        raise unknown_node("/".join(parts))
    node, edge = parts
    if not _owns(token, sim, node):
        raise GraphError(403, 200, "(#200) The user hasn't authorized the application")
    page_of = sim.page(node)
    if page_of is not None and edge in _PAGE_EDGES:
        if token.kind != "page":
            raise GraphError(403, 200, "(#200) Publishing to a Page requires a Page access token")
        return await _PAGE_EDGES[edge](request, page_of[1], params)
    return await _containers(request, sim, token, node, edge, params)


_PAGE_EDGES = {"feed": feed, "photos": photos, "videos": videos}


async def _containers(
    request: Request, sim: MetaSim, token: Token, node: str, edge: str, params: dict[str, str]
) -> Response:
    if sim.instagram(node) and token.kind != "threads":
        if edge == "media":
            return respond({"id": create_container(sim, "instagram", node, params).id})
        if edge == "media_publish":
            return await publish_container(
                request, "instagram", node, params, sim.config.instagram_quota
            )
    if token.kind == "threads":
        if edge == "threads":
            return respond({"id": create_container(sim, "threads", node, params).id})
        if edge == "threads_publish":
            return await publish_container(
                request, "threads", node, params, sim.config.threads_quota
            )
    raise unknown_node(f"{node}/{edge}")
