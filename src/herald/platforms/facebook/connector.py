"""FacebookConnector: publishes to a Facebook Page through the Graph API with the Page's own
token (herald.sim.meta simulates it).

Stored shapes: credentials `{"accessToken"}` (sealed: the Page token from GET /me/accounts
with a long-lived user token, which does not expire; pages_manage_posts,
pages_read_engagement, pages_show_list), options `{"apiUrl": "https://graph.facebook.com",
"graphVersion": "v24.0"}`. The connection's external id is the Page id.

    verify   GET /me?fields=id,name (with a Page token, /me is the Page)
    publish  text: POST /{page}/feed message (+ link: the first URL in the text, for its card)
             one image: POST /{page}/photos url, message -> {"id", "post_id"}
             2-10 images: each POST /{page}/photos url, published=false, then POST
               /{page}/feed message, attached_media[i]={"media_fbid": id}
             one video: POST /{page}/videos file_url, description -> {"id"}; the post is
               {page}_{video id}
             then GET /{post}?fields=permalink_url. Scheduling is Herald's, never Meta's.
    lookup   GET /{page}/feed?fields=id,message,created_time,permalink_url: the newest post
             with this message, dated no earlier than the owner's time allows.

Facebook takes no idempotency key: a create whose answer was lost is settled by lookup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    Capabilities,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishRequest,
    RejectedError,
)
from herald.platforms.meta.containers import find_recent, permalink, recent_enough
from herald.platforms.meta.graph import (
    GRAPH_URL,
    GRAPH_VERSION,
    GraphApi,
    access_token,
    base_url,
    text,
)

TITLE = "Facebook"
MAX_PHOTOS = 10
_URL = re.compile(r"https?://\S+")


def api_for(
    client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
) -> GraphApi:
    base = base_url(options, GRAPH_URL, GRAPH_VERSION, TITLE)
    return GraphApi(client, base, access_token(credentials, TITLE), TITLE)


class FacebookConnector:
    platform: Platform = Platform.FACEBOOK
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=None, supports_lookup=True, threads=False
    )

    async def verify(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Profile:
        api = api_for(client, credentials, options)
        body = await api.call("GET", "/me", {"fields": "id,name"}, subject="the Page")
        page_id, name = text(body.get("id")), text(body.get("name"))
        if not page_id.isdigit() or not name:
            raise RejectedError("Facebook's answer holds no Page; connect with a Page token")
        return Profile(
            external_id=page_id,
            username=name,
            display_name=name,
            profile_url=f"https://www.facebook.com/{page_id}",
            options={"apiUrl": options.get("apiUrl") or GRAPH_URL},
        )

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        api = api_for(client, request.credentials, request.options)
        page = request.account_external_id
        media = list(request.media)
        videos = [m for m in media if m.kind == "video"]
        if videos and len(media) > 1:
            raise RejectedError("Facebook posts take one video, or images only")
        if len(media) > MAX_PHOTOS:
            raise RejectedError(f"Facebook posts take at most {MAX_PHOTOS} images")
        if videos:
            body = await self._create(
                api, f"/{page}/videos", {"file_url": videos[0].url, "description": request.text}
            )
            post_id = f"{page}_{text(body.get('id'))}"
        elif len(media) == 1:
            params = {"url": media[0].url, "message": request.text}
            if media[0].alt_text:
                params["alt_text_custom"] = media[0].alt_text
            body = await self._create(api, f"/{page}/photos", params)
            post_id = text(body.get("post_id")) or text(body.get("id"))
        else:
            params = {"message": request.text} if request.text else {}
            for index, item in enumerate(media):
                photo = await api.call(
                    "POST",
                    f"/{page}/photos",
                    {"url": item.url, "published": "false"},
                    subject="a photo",
                )
                params[f"attached_media[{index}]"] = json.dumps(
                    {"media_fbid": text(photo.get("id"))}
                )
            link = _URL.search(request.text)
            if link and not media:
                params["link"] = link.group(0)
            body = await self._create(api, f"/{page}/feed", params)
            post_id = text(body.get("id"))
        return Published(post_id, await permalink(api, post_id, "permalink_url"))

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        return await self._find(api_for(client, request.credentials, request.options), request)

    async def _create(self, api: GraphApi, path: str, params: dict[str, str]) -> dict[str, Any]:
        body = await api.call("POST", path, params, subject="the post", may_exist=True)
        if not text(body.get("id")):
            raise OutcomeUnknownError("Facebook answered the post without an id")
        return body

    async def _find(self, api: GraphApi, request: PublishRequest) -> Published | None:
        def matches(entry: Mapping[str, Any]) -> bool:
            return text(entry.get("message")) == request.text and recent_enough(
                entry, "created_time", request
            )

        path = f"/{request.account_external_id}/feed"
        fields = "id,message,created_time,permalink_url"
        return await find_recent(api, path, fields, matches, "permalink_url")
