"""TikTok connector: Direct Post of a video (FILE_UPLOAD in chunks, or PULL_FROM_URL when the
connection says its media domain is verified) or of photos (PULL_FROM_URL), after
creator_info/query, then status polling until the post is published.

Wire protocol (developers.tiktok.com; reference/platforms.md §5):
- verify: GET /v2/user/info/?fields=open_id,union_id,avatar_url,display_name,username.
- publish: creator_info/query before every post: a setting the creator cannot use (a privacy
  level not offered, comments, duets or stitches the creator turned off) is a RejectedError
  naming it, before anything is created. Then video/init (or content/init for photos), the
  publish_id saved to the UploadJournal at once, the chunks PUT in order, and
  status/fetch until PUBLISH_COMPLETE (RejectedError on FAILED; OutcomeUnknownError when the
  wait runs out: lookup settles it from the saved publish_id).
- Publora's settings: viewerSetting -> privacy_level, allowComments / allowDuet / allowStitch ->
  disable_*, commercialContent with brandOrganic / brandedContent -> brand_organic_toggle /
  brand_content_toggle.
- lookup: the saved publish_id's status; None when its upload never finished (TikTok made no
  post); RetryableError while it cannot tell.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms._upload import ChunkReader
from herald.platforms.base import (
    Capabilities,
    MediaItem,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishRequest,
    RejectedError,
    RetryableError,
    UploadCheckpoint,
)
from herald.platforms.tiktok.api import TikTokApi, api_for

MB = 1024 * 1024
SINGLE_CHUNK_BELOW = 5 * MB  # files under this go in one chunk [docs]
CHUNK = 10 * MB  # 5-64 MB allowed [docs]; one chunk is what Herald holds in memory
STATUS_POLLS = (1, 2, 3, 5, 8, 13, 20, 30)  # seconds, about 80 s in all
PHOTO_TITLE = 90
_WEB = "https://www.tiktok.com/@"


def creator_refusal(creator: Mapping[str, Any], post: Mapping[str, Any], video: bool) -> str | None:
    """Why the creator cannot post with these settings, or None (TikTok's UX rules)."""
    options = [str(o) for o in creator.get("privacy_level_options") or []]
    who = f"@{creator.get('creator_username') or 'this account'}"
    if post["privacy_level"] not in options:
        return (
            f"TikTok does not let {who} post with viewerSetting {post['privacy_level']}; "
            f"it allows {', '.join(options) or 'nothing'}"
        )
    if not post["disable_comment"] and creator.get("comment_disabled"):
        return f"{who} has comments turned off on TikTok; set allowComments to false"
    if video and not post["disable_duet"] and creator.get("duet_disabled"):
        return f"{who} has duets turned off on TikTok; set allowDuet to false"
    if video and not post["disable_stitch"] and creator.get("stitch_disabled"):
        return f"{who} has stitches turned off on TikTok; set allowStitch to false"
    if post.get("brand_content_toggle") and post["privacy_level"] == "SELF_ONLY":
        return "TikTok does not allow branded content to be private (SELF_ONLY)"
    return None


def post_info(text: str, settings: Mapping[str, Any], photo: bool) -> dict[str, Any]:
    """Publora's TikTok settings (defaults as create-post stores them) as TikTok's post_info."""
    commercial = settings.get("commercialContent") is True
    info: dict[str, Any] = {
        "privacy_level": str(settings.get("viewerSetting") or "PUBLIC_TO_EVERYONE"),
        "disable_comment": settings.get("allowComments") is False,
        "brand_organic_toggle": commercial and settings.get("brandOrganic") is True,
        "brand_content_toggle": commercial and settings.get("brandedContent") is True,
    }
    if photo:
        first_line = (text.strip().splitlines() or [""])[0]
        info.update(title=first_line[:PHOTO_TITLE], description=text, auto_add_music=True)
    else:
        info.update(
            title=text,
            disable_duet=settings.get("allowDuet") is not True,
            disable_stitch=settings.get("allowStitch") is not True,
        )
    return info


class TikTokConnector:
    platform = Platform.TIKTOK
    capabilities = Capabilities(idempotency_ttl=None, supports_lookup=True, threads=False)

    def __init__(self, polls: tuple[float, ...] = STATUS_POLLS) -> None:
        self._polls = polls

    async def verify(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Profile:
        api = api_for(client, credentials, options)
        fields = "open_id,union_id,avatar_url,display_name,username"
        data = await api.call(f"/v2/user/info/?fields={fields}")
        found = data.get("user")
        user: dict[str, Any] = found if isinstance(found, dict) else {}
        open_id = user.get("open_id")
        if not isinstance(open_id, str) or not open_id:
            raise RejectedError("TikTok answered no open_id for this account")
        username = str(user.get("username") or open_id)
        return Profile(
            external_id=open_id,
            username=username,
            display_name=str(user.get("display_name") or username),
            profile_image_url=str(user.get("avatar_url") or ""),
            profile_url=f"{_WEB}{username}" if user.get("username") else None,
        )

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        del idempotency_key  # TikTok takes none: the saved publish_id plays its part
        api = api_for(client, request.credentials, request.options)
        videos = [m for m in request.media if m.kind == "video"]
        images = [m for m in request.media if m.kind == "image"]
        if not (len(videos) == 1 and not images) and not (images and not videos):
            raise RejectedError(
                "A TikTok post needs one video or 1-35 photos", code="MEDIA_REQUIRED"
            )
        creator = await api.call("/v2/post/publish/creator_info/query/", {})
        info = post_info(request.text, request.settings, photo=not videos)
        refusal = creator_refusal(creator, info, video=bool(videos))
        if refusal is not None:
            raise RejectedError(refusal, code="TIKTOK_SETTING_NOT_ALLOWED")
        username = str(creator.get("creator_username") or request.account_external_id)
        if videos:
            publish_id = await self._video(api, request, videos[0], info, username)
        else:
            publish_id = await self._photos(api, request, images, info, username)
        post_id = await self._published(api, publish_id)
        kind = "video" if videos else "photo"
        return Published(post_id, f"{_WEB}{username}/{kind}/{post_id}")

    async def _video(
        self,
        api: TikTokApi,
        request: PublishRequest,
        video: MediaItem,
        info: dict[str, Any],
        username: str,
    ) -> str:
        if request.options.get("pullFromUrl") is True:
            await _mark(request, Handle("video", username, "PULL_FROM_URL"), 0)
            source: dict[str, Any] = {"source": "PULL_FROM_URL", "video_url": video.url}
            data = await api.call(
                "/v2/post/publish/video/init/",
                {"post_info": info, "source_info": source},
                may_exist=True,
            )
            return await _saved(request, Handle("video", username, "PULL_FROM_URL"), data, 0)
        size = video.size
        if size is None or video.open is None:
            raise RejectedError("The video's size is unknown; upload it again")
        chunk = size if size < SINGLE_CHUNK_BELOW else CHUNK
        count = max(1, size // chunk)
        source = {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": count,
        }
        handle = Handle("video", username, "FILE_UPLOAD")
        await _mark(request, handle, size)  # before init: init alone makes no post
        data = await api.call(
            "/v2/post/publish/video/init/", {"post_info": info, "source_info": source}
        )
        publish_id = await _saved(request, handle, data, size)
        handle = Handle("video", username, "FILE_UPLOAD", publish_id)
        upload_url = data.get("upload_url")
        if not isinstance(upload_url, str) or not upload_url.startswith(("http://", "https://")):
            raise RetryableError("TikTok answered no upload URL")
        reader = ChunkReader(video.open, 0)
        try:
            for index in range(count):
                first = index * chunk
                length = size - first if index == count - 1 else chunk
                await self._put(api, upload_url, await reader.read(length), first, size)
                if request.uploads is not None:
                    await request.uploads.save(
                        UploadCheckpoint(handle.wire(), first + length, size)
                    )
        finally:
            await reader.aclose()
        return publish_id

    async def _put(self, api: TikTokApi, url: str, data: bytes, first: int, size: int) -> None:
        last = first + len(data) - 1
        answer = await api.send(
            "PUT",
            url,
            content=data,
            with_token=False,
            may_exist=last == size - 1,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{size}"},
        )
        if answer.status_code not in (200, 201, 206):
            raise api.error(
                answer.status_code, "", answer.text[:200], answer, may_exist=last == size - 1
            )

    async def _photos(
        self,
        api: TikTokApi,
        request: PublishRequest,
        images: list[MediaItem],
        info: dict[str, Any],
        username: str,
    ) -> str:
        source = {
            "source": "PULL_FROM_URL",
            "photo_images": [i.url for i in images],
            "photo_cover_index": 0,
        }
        body = {
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": info,
            "source_info": source,
        }
        handle = Handle("photo", username, "PULL_FROM_URL")
        await _mark(request, handle, 0)
        data = await api.call("/v2/post/publish/content/init/", body, may_exist=True)
        return await _saved(request, handle, data, 0)

    async def _published(self, api: TikTokApi, publish_id: str) -> str:
        for delay in (0.0, *self._polls):
            await asyncio.sleep(delay)
            status = await self._status(api, publish_id)
            if status is not None:
                return status
        raise OutcomeUnknownError("TikTok is still processing the post; Herald will check again")

    async def _status(self, api: TikTokApi, publish_id: str) -> str | None:
        """The post id once published; None while processing; RejectedError if it failed."""
        data = await api.call("/v2/post/publish/status/fetch/", {"publish_id": publish_id})
        if data.get("status") == "FAILED":
            raise RejectedError(f"TikTok could not publish the post: {data.get('fail_reason')}")
        ids = data.get("publicaly_available_post_id")  # sic, TikTok's spelling
        if data.get("status") == "PUBLISH_COMPLETE" and isinstance(ids, list) and ids:
            return str(ids[0])
        return None

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        del idempotency_key
        checkpoint = await request.uploads.load() if request.uploads else None
        if checkpoint is None:
            return None  # marked before every init: none was sent
        handle = Handle.parse(checkpoint.session)
        if handle.publish_id == "-":  # init went out and its answer was lost
            if handle.source == "FILE_UPLOAD":
                return None  # an init without its upload makes no post
            raise RetryableError("TikTok's answer to the post was lost; it may exist")
        api = api_for(client, request.credentials, request.options)
        data = await api.call("/v2/post/publish/status/fetch/", {"publish_id": handle.publish_id})
        ids = data.get("publicaly_available_post_id")
        if data.get("status") == "PUBLISH_COMPLETE" and isinstance(ids, list) and ids:
            url = f"{_WEB}{handle.username}/{handle.kind}/{ids[0]}"
            return Published(str(ids[0]), url)
        uploaded = data.get("uploaded_bytes")
        if (
            handle.source == "FILE_UPLOAD"
            and data.get("status") == "PROCESSING_UPLOAD"
            and isinstance(uploaded, int)
            and uploaded < checkpoint.total
        ):
            return None  # the upload never finished: TikTok made no post
        raise RetryableError("TikTok is still processing the post")


@dataclass(frozen=True)
class Handle:
    """What the journal keeps of a post: its kind, creator, source and publish_id ("-" until
    TikTok answered the init)."""

    kind: str
    username: str
    source: str
    publish_id: str = "-"

    def wire(self) -> str:
        return " ".join((self.kind, self.username, self.source, self.publish_id))

    @classmethod
    def parse(cls, value: str) -> Handle:
        kind, username, source, publish_id = (value.split(" ") + ["-"] * 4)[:4]
        return cls(kind, username, source, publish_id)


async def _mark(request: PublishRequest, handle: Handle, size: int) -> None:
    if request.uploads is not None:
        await request.uploads.save(UploadCheckpoint(handle.wire(), 0, size))


async def _saved(
    request: PublishRequest, handle: Handle, data: Mapping[str, Any], size: int
) -> str:
    publish_id = data.get("publish_id")
    if not isinstance(publish_id, str) or not publish_id or " " in publish_id:
        raise OutcomeUnknownError("TikTok's answer had no publish_id; the post may exist")
    await _mark(request, Handle(handle.kind, handle.username, handle.source, publish_id), size)
    return publish_id
