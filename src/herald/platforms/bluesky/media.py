"""Images and video of a post: each file uploaded as a blob, then described in the post's embed.

    POST {pds}/xrpc/com.atproto.repo.uploadBlob  the file's bytes, `Content-Type` its type
        200 {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType", "size"}}
        413 PayloadTooLarge  over the PDS's upload limit (a local PDS: 5 MiB by default)

    "embed": {"$type": "app.bsky.embed.images",
              "images": [{"image": blob, "alt": text, "aspectRatio"?: {"width", "height"}}]}
    "embed": {"$type": "app.bsky.embed.video", "video": blob, "alt"?: text}

A post holds 1 to 4 images or one video, never both. Video takes the simple path: uploaded to
the PDS like an image (the Bluesky video service is out of scope) and processed by Bluesky after
the post appears. Files stream from Herald's media store to the PDS; only the first bytes of an
image are kept, for Pillow to read its dimensions from the header.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from PIL import Image

from herald.platforms.base import MediaItem, RejectedError

MAX_IMAGES = 4
IMAGES = "app.bsky.embed.images"
VIDEO = "app.bsky.embed.video"
# Enough for the header of any common image, EXIF included; Pillow needs no more for the size.
_HEADER_BYTES = 256 * 1024

Opener = Callable[[], AsyncIterator[bytes]]
# Uploads one file (a fresh byte stream per call, and its content type); returns the blob.
Upload = Callable[[Opener, str, str], Awaitable[dict[str, Any]]]


def check_media(media: Sequence[MediaItem]) -> None:
    """Refuse what Bluesky cannot take before anything is uploaded."""
    images = [item for item in media if item.kind == "image"]
    videos = [item for item in media if item.kind == "video"]
    if len(images) + len(videos) != len(media):
        kinds = sorted({item.kind for item in media} - {"image", "video"})
        raise RejectedError(f"Bluesky cannot attach media of kind {', '.join(kinds)}")
    if images and videos:
        raise RejectedError("Bluesky takes up to 4 images or one video in a post, not both")
    if len(images) > MAX_IMAGES:
        raise RejectedError(
            f"Bluesky takes at most {MAX_IMAGES} images in a post, this one has {len(images)}"
        )
    if len(videos) > 1:
        raise RejectedError(f"Bluesky takes one video per post, this post has {len(videos)}")
    if any(item.open is None for item in media):
        raise RejectedError("A media file of this post cannot be read for upload to Bluesky")


async def embed_for(media: Sequence[MediaItem], upload: Upload) -> dict[str, Any] | None:
    if not media:
        return None
    if media[0].kind == "video":
        video = media[0]
        embed: dict[str, Any] = {"$type": VIDEO, "video": await upload(_opener(video), *_of(video))}
        if video.alt_text:
            embed["alt"] = video.alt_text
        return embed
    return {"$type": IMAGES, "images": [await _image(item, upload) for item in media]}


async def _image(item: MediaItem, upload: Upload) -> dict[str, Any]:
    header = bytearray()

    async def body() -> AsyncIterator[bytes]:
        header.clear()  # a second call is a re-send after a stale session: start over
        async for chunk in _opener(item)():
            if len(header) < _HEADER_BYTES:
                header.extend(chunk[: _HEADER_BYTES - len(header)])
            yield chunk

    image: dict[str, Any] = {"image": await upload(body, *_of(item)), "alt": item.alt_text or ""}
    size = _dimensions(bytes(header))
    if size is not None:
        image["aspectRatio"] = {"width": size[0], "height": size[1]}
    return image


def _opener(item: MediaItem) -> Opener:
    if item.open is None:  # check_media refuses these first; this keeps the type exact
        raise RejectedError("A media file of this post cannot be read for upload to Bluesky")
    return item.open


def _of(item: MediaItem) -> tuple[str, str]:
    return item.content_type, f"the {item.kind} upload"


def _dimensions(header: bytes) -> tuple[int, int] | None:
    try:
        with warnings.catch_warnings():
            # A huge pixel count only matters to code that decodes the pixels; this reads the size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(header)) as image:
                width, height = image.size
    except Exception:  # any unreadable header: the aspect ratio is optional
        return None
    return (width, height) if width > 0 and height > 0 else None
