"""Facebook Pages in the simulator: posts to a Page's feed (text, link, attached photos),
photos (published or not) and videos, all fetched from their URL."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from herald.sim.meta.config import MetaPage
from herald.sim.meta.fetch import fetch_digest
from herald.sim.meta.http import GraphError, bad_parameter, respond, sim_of
from herald.sim.meta.publishing import publish_with_faults, record
from herald.sim.meta.state import MetaSim, Published


async def _fetched(sim: MetaSim, url: str) -> str:
    sim.stats.fetches += 1
    digest = await fetch_digest(sim, url)
    if digest is None:
        sim.stats.fetch_failures += 1
        raise GraphError(
            400,
            324,
            "(#324) Missing or invalid image file",
            user_msg="The URL could not be fetched",
        )
    return digest


def _post_id(sim: MetaSim, page: MetaPage) -> str:
    return f"{page.id}_{sim.new_id()}"


async def feed(request: Request, page: MetaPage, params: dict[str, str]) -> Response:
    """POST /{page-id}/feed: message, link, attached_media[i]={"media_fbid"} -> {"id"}."""
    sim = sim_of(request)
    attached: list[str] = []
    for key in sorted(k for k in params if k.startswith("attached_media")):
        try:
            fbid = json.loads(params[key])["media_fbid"]
        except (ValueError, KeyError, TypeError):
            raise bad_parameter(f"Invalid {key}") from None
        if fbid not in sim.unpublished_photos:
            raise bad_parameter(f"Invalid media_fbid {fbid}")
        attached.append(fbid)
    if not params.get("message") and not params.get("link") and not attached:
        raise bad_parameter("Missing message or attachment")

    async def create() -> dict[str, object]:
        item = Published(
            id=_post_id(sim, page),
            host="facebook",
            owner_id=page.id,
            media_type="PHOTOS" if attached else ("LINK" if params.get("link") else "STATUS"),
            text=params.get("message", ""),
            permalink="",
            shortcode="-",
            children=attached,
            extra={"link": params.get("link", "")},
        )
        return {"id": record(sim, item).id}

    return await publish_with_faults(request, create)


async def photos(request: Request, page: MetaPage, params: dict[str, str]) -> Response:
    """POST /{page-id}/photos: url, message/caption, published -> {"id", "post_id"?}."""
    sim = sim_of(request)
    if not params.get("url"):
        raise bad_parameter("Missing url parameter")
    digest = await _fetched(sim, params["url"])
    photo_id = sim.new_id()
    if params.get("published", "true").lower() == "false":
        sim.unpublished_photos[photo_id] = Published(
            photo_id, "facebook", page.id, "PHOTO", "", "", "-", extra={"sha256": digest}
        )
        return respond({"id": photo_id})

    async def create() -> dict[str, object]:
        item = Published(
            id=_post_id(sim, page),
            host="facebook",
            owner_id=page.id,
            media_type="PHOTO",
            text=params.get("message") or params.get("caption", ""),
            permalink="",
            shortcode="-",
            children=[photo_id],
            extra={"sha256": digest},
        )
        return {"id": photo_id, "post_id": record(sim, item).id}

    return await publish_with_faults(request, create)


async def videos(request: Request, page: MetaPage, params: dict[str, str]) -> Response:
    """POST /{page-id}/videos: file_url, description, title -> {"id"} (the video id; the
    post is `{page-id}_{video-id}`)."""
    sim = sim_of(request)
    if not params.get("file_url"):
        raise bad_parameter("Missing file_url parameter")
    digest = await _fetched(sim, params["file_url"])

    async def create() -> dict[str, object]:
        video_id = sim.new_id()
        item = Published(
            id=f"{page.id}_{video_id}",
            host="facebook",
            owner_id=page.id,
            media_type="VIDEO",
            text=params.get("description", ""),
            permalink="",
            shortcode="-",
            extra={"sha256": digest, "title": params.get("title", ""), "video_id": video_id},
        )
        record(sim, item)
        return {"id": video_id}

    return await publish_with_faults(request, create)
