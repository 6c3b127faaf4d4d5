"""Instagram and Threads containers: create (fetching the media URL), status, publish, quota."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from herald.sim.meta.fetch import settle, start_fetch
from herald.sim.meta.http import GraphError, bad_parameter, respond, sim_of
from herald.sim.meta.publishing import publish_with_faults, record
from herald.sim.meta.state import Container, MetaSim, Published

IG_TYPES = frozenset({"IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL"})
THREADS_TYPES = frozenset({"TEXT", "IMAGE", "VIDEO", "CAROUSEL"})
REPLY_CONTROLS = frozenset({"everyone", "accounts_you_follow", "mentioned_only"})
MAX_CHILDREN = {"instagram": 10, "threads": 20}
NOT_READY = GraphError(
    400,
    9007,
    "Media ID is not available",
    subcode=2207027,
    user_msg="The media is not ready for publishing, please wait for a moment",
)


def _media_type(host: str, params: dict[str, str]) -> str:
    given = params.get("media_type", "").upper()
    if host == "instagram":
        if not given:
            return "VIDEO" if "video_url" in params else "IMAGE"
        if given not in IG_TYPES:
            raise bad_parameter("The parameter media_type is not valid")
        return given
    if given not in THREADS_TYPES:
        raise bad_parameter("Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}")
    return given


def create_container(sim: MetaSim, host: str, owner_id: str, params: dict[str, str]) -> Container:
    media_type = _media_type(host, params)
    item = params.get("is_carousel_item", "").lower() == "true"
    children = _children(sim, host, owner_id, params) if media_type == "CAROUSEL" else []
    urls = _urls(media_type, params)
    reply_control = params.get("reply_control")
    if host == "threads" and reply_control and reply_control not in REPLY_CONTROLS:
        raise bad_parameter("Invalid reply_control")
    reply_to = params.get("reply_to_id")
    if reply_to and (reply_to not in sim.published or sim.published[reply_to].host != host):
        raise bad_parameter("The reply_to_id does not exist")
    container = Container(
        id=sim.new_id(),
        host="instagram" if host == "instagram" else "threads",
        owner_id=owner_id,
        media_type=media_type,
        params=dict(params),
        children=children,
        is_carousel_item=item,
    )
    container.params.pop("access_token", None)
    sim.containers[container.id] = container
    sim.stats.containers += 1
    if media_type == "CAROUSEL":
        states = {sim.containers[c].status for c in children}
        container.status = "ERROR" if "ERROR" in states else "FINISHED"
    else:
        start_fetch(sim, container, urls)
    return container


def _children(sim: MetaSim, host: str, owner_id: str, params: dict[str, str]) -> list[str]:
    children = _id_list(params.get("children", ""))
    if not 2 <= len(children) <= MAX_CHILDREN[host]:
        raise bad_parameter(f"A carousel takes 2 to {MAX_CHILDREN[host]} children")
    for child in children:
        found = sim.containers.get(child)
        if found is None or found.owner_id != owner_id or not found.is_carousel_item:
            raise bad_parameter(f"Invalid children: {child}")
    return children


def _id_list(raw: str) -> list[str]:
    """Children as Meta takes them: "a,b" or a JSON array (what SDKs send for a list)."""
    if raw.startswith("["):
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise bad_parameter("Invalid children") from None
        if isinstance(parsed, list):
            return [str(item) for item in parsed if str(item)]
    return [c.strip() for c in raw.split(",") if c.strip()]


def _urls(media_type: str, params: dict[str, str]) -> list[str]:
    """The files Meta fetches for a container: its image or video, and a Reel's cover."""
    if media_type == "CAROUSEL":
        return []
    if media_type == "TEXT":
        if not params.get("text"):
            raise bad_parameter("The parameter text is required for TEXT posts")
        return []
    video = media_type in {"VIDEO", "REELS"} or (media_type == "STORIES" and "video_url" in params)
    key = "video_url" if video else "image_url"
    if not params.get(key):
        raise bad_parameter(f"The parameter {key} is required")
    cover = params.get("cover_url")
    return [params[key], cover] if cover else [params[key]]


def container_status(sim: MetaSim, container: Container) -> str:
    settle(container)
    if container.media_type == "CAROUSEL" and container.status != "PUBLISHED":
        for child in container.children:
            settle(sim.containers[child])
        states = {sim.containers[c].status for c in container.children}
        if "ERROR" in states:
            container.status = "ERROR"
        elif states != {"FINISHED"}:
            return "IN_PROGRESS"
    return container.status


async def publish_container(
    request: Request, host: str, owner_id: str, params: dict[str, str], quota: int
) -> Response:
    sim = sim_of(request)
    creation = params.get("creation_id", "")
    container = sim.containers.get(creation)
    if container is None or container.owner_id != owner_id or container.host != host:
        raise bad_parameter("Param creation_id is invalid")
    status = container_status(sim, container)
    if status == "PUBLISHED":
        raise GraphError(400, 100, "(#100) The media has already been published", subcode=2207008)
    if status == "ERROR":
        raise GraphError(
            400, 100, container.error_message or "Media upload has failed", subcode=2207001
        )
    if status != "FINISHED":
        raise NOT_READY
    is_reply = bool(container.params.get("reply_to_id"))
    if not is_reply and sim.published_in_day(owner_id) >= quota:
        raise GraphError(
            400,
            9,
            "Application request limit reached",
            subcode=2207042,
            user_msg="You have reached the maximum number of posts that is allowed for today.",
        )

    async def create() -> dict[str, object]:
        item = record(
            sim,
            Published(
                id=sim.new_id(),
                host="instagram" if host == "instagram" else "threads",
                owner_id=owner_id,
                media_type=container.media_type,
                text=container.params.get("caption") or container.params.get("text", ""),
                permalink="",
                shortcode="",
                container_id=container.id,
                reply_to_id=container.params.get("reply_to_id"),
                children=list(container.children),
                extra={k: v for k, v in container.params.items() if k not in {"caption", "text"}},
            ),
        )
        container.status = "PUBLISHED"
        container.published_id = item.id
        return {"id": item.id}

    return await publish_with_faults(request, create)


def limit_answer(sim: MetaSim, owner_id: str, quota: int, fields: str) -> Response:
    sim.stats.quota_reads += 1
    entry: dict[str, object] = {"quota_usage": sim.published_in_day(owner_id)}
    if "config" in fields:
        entry["config"] = {"quota_total": quota, "quota_duration": 86400}
    return respond({"data": [entry]})
