"""ThreadsConnector: publishes to a Threads profile through the Threads API's container model
(herald.sim.meta simulates it).

Stored shapes: credentials `{"accessToken", "expiresAt"}` (sealed: a long-lived token, 60 days,
with threads_basic, threads_content_publish and threads_manage_replies; herald.oauth renews
it), options `{"apiUrl": "https://graph.threads.net", "graphVersion": "v1.0", "username"}`.
The connection's external id is the Threads user id.

    verify   GET /me?fields=id,username,name,threads_profile_picture_url
    publish  the first part reads GET /{user}/threads_publishing_limit (a spent quota waits);
             then POST /{user}/threads: text alone is media_type=TEXT; with one file IMAGE
             (image_url, alt_text) or VIDEO (video_url); with 2-20 files each is_carousel_item,
             then CAROUSEL with children. Media go on the first part only (Publora's rule);
             later parts carry reply_to_id (the previous part), making the chain. reply_control
             comes from platformSettings.threads.replyControl (every part). Each container is
             polled (GET /{container}?fields=status) until FINISHED, then POST
             /{user}/threads_publish creation_id -> the post id; GET ?fields=permalink.
    lookup   GET /{user}/threads (first part) or /{user}/replies (later parts): the newest
             post with this text (and this parent), dated no earlier than the owner's time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    Capabilities,
    MediaItem,
    Profile,
    Published,
    PublishRequest,
    RejectedError,
)
from herald.platforms.meta.containers import (
    Waits,
    create_container,
    find_recent,
    permalink,
    publish_once,
    recent_enough,
    wait_until_ready,
)
from herald.platforms.meta.graph import (
    THREADS_URL,
    THREADS_VERSION,
    GraphApi,
    access_token,
    base_url,
    text,
)
from herald.platforms.meta.quota import check_quota

TITLE = "Threads"
MAX_CAROUSEL = 20
REPLY_CONTROLS = frozenset({"everyone", "accounts_you_follow", "mentioned_only"})


def api_for(
    client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
) -> GraphApi:
    base = base_url(options, THREADS_URL, THREADS_VERSION, TITLE)
    return GraphApi(client, base, access_token(credentials, TITLE), TITLE)


class ThreadsConnector:
    platform: Platform = Platform.THREADS
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=None, supports_lookup=True, threads=True
    )

    def __init__(self, waits: Waits | None = None) -> None:
        self.waits = waits or Waits()

    async def verify(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Profile:
        api = api_for(client, credentials, options)
        fields = "id,username,name,threads_profile_picture_url"
        body = await api.call("GET", "/me", {"fields": fields}, subject="the profile")
        user_id, username = text(body.get("id")), text(body.get("username"))
        if not user_id or not username:
            raise RejectedError("Threads' answer holds no profile; check the apiUrl")
        return Profile(
            external_id=user_id,
            username=f"@{username}",
            display_name=text(body.get("name")) or username,
            profile_image_url=text(body.get("threads_profile_picture_url")),
            profile_url=f"https://www.threads.com/@{username}",
            options={"apiUrl": options.get("apiUrl") or THREADS_URL, "username": username},
        )

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        api = api_for(client, request.credentials, request.options)
        user = request.account_external_id
        if len(request.media) > MAX_CAROUSEL:
            raise RejectedError(f"Threads takes at most {MAX_CAROUSEL} files in a carousel")
        if request.part_index == 0:
            await check_quota(api, f"/{user}/threads_publishing_limit")
        container = await self._container(api, request)
        media_id = await publish_once(
            api, f"/{user}/threads_publish", container, lambda: self._find(api, request)
        )
        return Published(media_id, await permalink(api, media_id))

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        return await self._find(api_for(client, request.credentials, request.options), request)

    async def _find(self, api: GraphApi, request: PublishRequest) -> Published | None:
        parent = request.reply_to_id

        def matches(entry: Mapping[str, Any]) -> bool:
            replied = entry.get("replied_to")
            replied_id = text(replied.get("id")) if isinstance(replied, Mapping) else ""
            return (
                text(entry.get("text")) == request.text
                and (parent is None or replied_id == parent)
                and recent_enough(entry, "timestamp", request)
            )

        edge = "replies" if parent else "threads"
        fields = "id,text,timestamp,permalink,replied_to"
        return await find_recent(
            api, f"/{request.account_external_id}/{edge}", fields, matches, "permalink"
        )

    async def _container(self, api: GraphApi, request: PublishRequest) -> str:
        path = f"/{request.account_external_id}/threads"
        media = list(request.media)
        params: dict[str, str] = {}
        if len(media) > 1:
            children = []
            for item in media:
                child = {"is_carousel_item": "true", **_source(item)}
                children.append(await create_container(api, path, child))
            for child_id in children:
                await wait_until_ready(api, child_id, "status", self.waits)
            params = {"media_type": "CAROUSEL", "children": ",".join(children)}
        elif media:
            params = _source(media[0])
        else:
            params = {"media_type": "TEXT"}
        if request.text:
            params["text"] = request.text
        if request.reply_to_id:
            params["reply_to_id"] = request.reply_to_id
        control = request.settings.get("replyControl")
        if isinstance(control, str) and control in REPLY_CONTROLS:
            params["reply_control"] = control
        container = await create_container(api, path, params)
        await wait_until_ready(api, container, "status", self.waits)
        return container


def _source(item: MediaItem) -> dict[str, str]:
    if item.kind == "video":
        return {"media_type": "VIDEO", "video_url": item.url}
    params = {"media_type": "IMAGE", "image_url": item.url}
    if item.alt_text:
        params["alt_text"] = item.alt_text
    return params
