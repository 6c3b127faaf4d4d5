"""YouTube connector: a video per post through the Data API v3's resumable videos.insert, then
the playlist and thumbnail the post's settings name.

Wire protocol (developers.google.com/youtube/v3; reference/platforms.md §6):
- verify: GET /youtube/v3/channels?part=snippet&mine=true -> the channel (`youtube-<UC…>`).
- publish: the resumable upload (upload.py) with the title (given, or derived from the text as
  Publora does), the text as description, tags, category, privacy and made-for-kids; its
  session URI and confirmed offset go to the request's UploadJournal as the upload proceeds, so
  a worker that dies mid-upload leaves the next one a session to resume, never a second video.
  Then, best-effort as Publora (a refusal never fails the post): wait for processing
  (videos.list status and processingDetails), playlistItems.insert, thumbnails.set with the
  group's upload-youtube-thumbnail artwork.
- lookup: the saved session's status query: its video if complete, None if it is not (no
  video exists before the last byte), RetryableError when it cannot tell.
- Errors (Google's {"error": {"errors": [{"reason"}]}}): 401 AuthExpiredError; quotaExceeded
  and uploadLimitExceeded hold the connection until midnight Pacific (the quota day); 429 and
  rate-limit reasons RetryableError; other 4xx RejectedError; 5xx retryable before the last
  chunk, unknown after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    Capabilities,
    MediaItem,
    Profile,
    Published,
    PublishError,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.youtube.api import WATCH_URL, YouTubeApi, api_for
from herald.platforms.youtube.metadata import playlist_of, thumbnail_id, video_metadata
from herald.platforms.youtube.upload import ResumableUpload, chunk_size

PROCESSING_POLLS = (0.5, 1, 2, 4, 8, 15)  # seconds between status reads, about 30 s in all
_DONE = frozenset({"processed", "failed", "rejected", "deleted"})


class YouTubeConnector:
    platform = Platform.YOUTUBE
    capabilities = Capabilities(idempotency_ttl=None, supports_lookup=True, threads=False)

    def __init__(self, polls: tuple[float, ...] = PROCESSING_POLLS) -> None:
        self._polls = polls
        # Bytes of video this process sent, for benchmarks that count re-sent bytes.
        self.bytes_sent = 0

    async def verify(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Profile:
        api = api_for(client, credentials, options)
        answer = await api.send(
            "GET", "/youtube/v3/channels", params={"part": "snippet", "mine": "true"}
        )
        if not answer.is_success:
            raise api.error(answer)
        items = _items(_json(answer))
        if not items or not isinstance(items[0].get("id"), str):
            raise RejectedError("This Google account has no YouTube channel; create one first")
        channel = items[0]
        found = channel.get("snippet")
        snippet: dict[str, Any] = found if isinstance(found, dict) else {}
        handle = str(snippet.get("customUrl") or "")
        picture = ((snippet.get("thumbnails") or {}).get("default") or {}).get("url") or ""
        return Profile(
            external_id=channel["id"],
            username=handle.lstrip("@") or channel["id"],
            display_name=str(snippet.get("title") or handle or channel["id"]),
            profile_image_url=str(picture),
            profile_url=f"https://www.youtube.com/{handle}" if handle else None,
        )

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        del idempotency_key  # YouTube takes none: the saved upload session plays its part
        api = api_for(client, request.credentials, request.options)
        videos = [m for m in request.media if m.kind == "video"]
        if len(videos) != 1:
            raise RejectedError("A YouTube post needs exactly one video", code="MEDIA_REQUIRED")
        upload = ResumableUpload(api, videos[0], request.uploads, chunk_size(request.options))
        try:
            video = await upload.run(video_metadata(request.text, request.settings))
        finally:
            self.bytes_sent += upload.bytes_sent
        video_id = str(video["id"])
        await self._after_upload(api, video_id, request)
        return Published(video_id, WATCH_URL + video_id)

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        del idempotency_key
        checkpoint = await request.uploads.load() if request.uploads else None
        if checkpoint is None:
            return None  # no session was ever saved: no byte, no video
        api = api_for(client, request.credentials, request.options)
        videos = [m for m in request.media if m.kind == "video"]
        item = videos[0] if videos else MediaItem("video", "video/*", "")
        upload = ResumableUpload(api, item, request.uploads, chunk_size(request.options))
        try:
            progress = await upload.query(checkpoint.session, checkpoint.total, final_sent=True)
        except PublishError as exc:
            raise RetryableError(exc.message) from None
        if progress.video is None:
            return None
        video_id = str(progress.video["id"])
        return Published(video_id, WATCH_URL + video_id)

    async def _after_upload(self, api: YouTubeApi, video_id: str, request: PublishRequest) -> None:
        """Processing, then playlist and thumbnail: best-effort, as Publora applies them."""
        playlist = playlist_of(request.settings)
        artwork_id = thumbnail_id(request.settings)
        thumbnail = request.artwork.get(artwork_id) if artwork_id else None
        if playlist is None and thumbnail is None:
            return
        await self._processed(api, video_id)
        if playlist is not None:
            body = {
                "snippet": {
                    "playlistId": playlist,
                    "resourceId": {"kind": "youtube#video", "videoId": video_id},
                }
            }
            await _best_effort(
                api.send("POST", "/youtube/v3/playlistItems", params={"part": "snippet"}, json=body)
            )
        if thumbnail is not None and thumbnail.open is not None:
            await _best_effort(
                api.send(
                    "POST",
                    "/upload/youtube/v3/thumbnails/set",
                    params={"videoId": video_id, "uploadType": "media"},
                    content=thumbnail.open(),
                    headers={"Content-Type": thumbnail.content_type},
                )
            )

    async def _processed(self, api: YouTubeApi, video_id: str) -> None:
        for delay in (0.0, *self._polls):
            await asyncio.sleep(delay)
            try:
                answer = await api.send(
                    "GET",
                    "/youtube/v3/videos",
                    params={"part": "status,processingDetails", "id": video_id},
                )
            except PublishError:
                continue
            items = _items(_json(answer))
            status = items[0].get("status") if items else None
            if isinstance(status, dict) and status.get("uploadStatus") in _DONE:
                return


async def _best_effort(call: Any) -> None:
    # The video is published; a playlist or thumbnail refusal never fails it.
    with contextlib.suppress(PublishError):
        await call


def _items(body: Any) -> list[dict[str, Any]]:
    items = body.get("items") if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _json(answer: Any) -> Any:
    if not answer.is_success or not answer.content:
        return {}
    try:
        return answer.json()
    except ValueError:
        return {}
