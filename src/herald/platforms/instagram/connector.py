"""InstagramConnector: publishes to an Instagram professional account linked to a Facebook
Page, through the Graph API's container model (herald.sim.meta simulates it).

Stored shapes: credentials `{"accessToken"}` (sealed: the token of the Page the account is
linked to, from Facebook Login for Business with instagram_basic and instagram_content_publish;
it does not expire), options `{"apiUrl":
"https://graph.facebook.com", "graphVersion": "v24.0", "username"}`. The connection's
external id is the Instagram account id.

    verify   GET /{ig-id}?fields=id,username,name (the id from options `accountId`, else the
             first account linked to the user's Pages in GET /me/accounts)
    publish  GET /{ig-id}/content_publishing_limit: a spent quota waits (rate limited) before
             anything is created. Then containers, POST /{ig-id}/media:
               one image           image_url, caption, alt_text
               one video           media_type=REELS, video_url, caption, share_to_feed
                                   (platformSettings.instagram.shareToFeed), cover_url
                                   (instagram.coverUrl: an upload-instagram-cover image)
               videoType STORIES   media_type=STORIES with image_url or video_url (no caption)
               2-10 files          each is_carousel_item (images; videos as media_type=VIDEO),
                                   then media_type=CAROUSEL, children, caption
             each polled (GET /{container}?fields=status_code) with a bounded wait until
             FINISHED; then POST /{ig-id}/media_publish creation_id -> the media id, and
             GET /{media-id}?fields=permalink for its address.
    lookup   GET /{ig-id}/media: the newest post with this caption and kind, dated no earlier
             than the owner's time allows.

A publish whose answer is lost is settled by the same read; the container is never published
twice (errors: herald.platforms.meta.errors).
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
    GRAPH_URL,
    GRAPH_VERSION,
    GraphApi,
    access_token,
    base_url,
    text,
)
from herald.platforms.meta.quota import check_quota

TITLE = "Instagram"
MAX_CAROUSEL = 10


def api_for(
    client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
) -> GraphApi:
    base = base_url(options, GRAPH_URL, GRAPH_VERSION, TITLE)
    return GraphApi(client, base, access_token(credentials, TITLE), TITLE)


class InstagramConnector:
    platform: Platform = Platform.INSTAGRAM
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=None, supports_lookup=True, threads=False
    )

    def __init__(self, waits: Waits | None = None) -> None:
        self.waits = waits or Waits()

    async def verify(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Profile:
        api = api_for(client, credentials, options)
        account_id = text(options.get("accountId")) or await _first_linked(api)
        body = await api.call(
            "GET", f"/{account_id}", {"fields": "id,username,name"}, subject="the account"
        )
        username = text(body.get("username"))
        if text(body.get("id")) != account_id or not username:
            raise RejectedError("Instagram's answer holds no account; check the apiUrl")
        return Profile(
            external_id=account_id,
            username=f"@{username}",
            display_name=text(body.get("name")) or username,
            profile_url=f"https://www.instagram.com/{username}/",
            options={"apiUrl": options.get("apiUrl") or GRAPH_URL, "username": username},
        )

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        api = api_for(client, request.credentials, request.options)
        account = request.account_external_id
        media = list(request.media)
        if not media:
            raise RejectedError("Instagram posts need an image or a video", code="MEDIA_REQUIRED")
        if len(media) > MAX_CAROUSEL:
            raise RejectedError(f"Instagram takes at most {MAX_CAROUSEL} files in a carousel")
        if _kind(request) == "STORIES" and len(media) > 1:
            raise RejectedError("An Instagram Story takes one image or video")
        await check_quota(api, f"/{account}/content_publishing_limit")
        container = await self._containers(api, request, media)
        media_id = await publish_once(
            api, f"/{account}/media_publish", container, lambda: self._find(api, request)
        )
        return Published(media_id, await permalink(api, media_id))

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        return await self._find(api_for(client, request.credentials, request.options), request)

    async def _find(self, api: GraphApi, request: PublishRequest) -> Published | None:
        kind = _kind(request)

        def matches(entry: Mapping[str, Any]) -> bool:
            same_text = kind == "STORIES" or text(entry.get("caption")) == request.text
            listed = (text(entry.get("media_type")), text(entry.get("media_product_type")))
            return (
                same_text
                and _same_kind(kind, listed)
                and recent_enough(entry, "timestamp", request)
            )

        # Stories are listed apart from the feed and Reels [docs].
        edge = "stories" if kind == "STORIES" else "media"
        fields = "id,caption,media_type,media_product_type,timestamp,permalink"
        path = f"/{request.account_external_id}/{edge}"
        return await find_recent(api, path, fields, matches, "permalink")

    async def _containers(
        self, api: GraphApi, request: PublishRequest, media: list[MediaItem]
    ) -> str:
        path = f"/{request.account_external_id}/media"
        kind = _kind(request)
        if kind == "CAROUSEL":
            children = []
            for item in media:
                params = {"is_carousel_item": "true", **_source(item)}
                if item.kind == "video":
                    params["media_type"] = "VIDEO"
                children.append(await create_container(api, path, params))
            for child in children:
                await wait_until_ready(api, child, "status_code", self.waits)
            params = {"media_type": "CAROUSEL", "children": ",".join(children)}
            params["caption"] = request.text
        else:
            params = _single(request, media[0], kind)
        container = await create_container(api, path, params)
        await wait_until_ready(api, container, "status_code", self.waits)
        return container


def _kind(request: PublishRequest) -> str:
    if str(request.settings.get("videoType", "")).upper() == "STORIES":
        return "STORIES"
    if len(request.media) > 1:
        return "CAROUSEL"
    return "REELS" if request.media and request.media[0].kind == "video" else "IMAGE"


def _same_kind(kind: str, listed: tuple[str, str]) -> bool:
    """Whether a listed post (media_type, media_product_type) is of the kind published."""
    media_type, product = listed
    if kind == "REELS":
        return product == "REELS" or (media_type == "VIDEO" and not product)
    if kind == "CAROUSEL":
        return media_type == "CAROUSEL_ALBUM"
    if kind == "STORIES":
        return True
    return media_type == "IMAGE" and product in {"", "FEED"}


def _source(item: MediaItem) -> dict[str, str]:
    key = "video_url" if item.kind == "video" else "image_url"
    return {key: item.url}


def _single(request: PublishRequest, item: MediaItem, kind: str) -> dict[str, str]:
    params = _source(item)
    if kind == "STORIES":
        return {"media_type": "STORIES", **params}
    params["caption"] = request.text
    if kind == "REELS":
        params["media_type"] = "REELS"
        share = request.settings.get("shareToFeed")
        if isinstance(share, bool):
            params["share_to_feed"] = "true" if share else "false"
        cover = request.settings.get("coverUrl")
        if isinstance(cover, str) and cover:
            params["cover_url"] = cover
    elif item.alt_text:
        params["alt_text"] = item.alt_text
    return params


async def _first_linked(api: GraphApi) -> str:
    body = await api.call(
        "GET", "/me/accounts", {"fields": "id,instagram_business_account"}, subject="the Pages"
    )
    for page in body.get("data") or []:
        linked = page.get("instagram_business_account") if isinstance(page, dict) else None
        if isinstance(linked, dict) and text(linked.get("id")):
            return text(linked.get("id"))
    raise RejectedError("No Instagram professional account is linked to this user's Pages")
