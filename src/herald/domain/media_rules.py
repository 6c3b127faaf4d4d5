"""What media each platform accepts (publora-spec §4.2 and §5): counts, kinds and formats.

Checked when a file is attached (so a client hears about a fifth Bluesky image at once) and again
before publishing (a platform that needs media fails visibly if none arrived)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from herald.domain.platform import Platform

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/x-msvideo"})
_MP4 = frozenset({"video/mp4"})
_MP4_MOV = frozenset({"video/mp4", "video/quicktime"})


@dataclass(frozen=True)
class MediaRule:
    max_images: int
    max_videos: int
    max_items: int
    mix: bool  # may images and videos go in one post
    required: bool  # the platform has no text-only posts
    video_types: frozenset[str]
    webp: bool  # takes WebP as is; otherwise Herald converts it to JPEG

    def describe_kinds(self) -> str:
        if self.max_images == 0:
            return "a video"
        return "images or a video" if not self.mix else "images and videos"


_RULES: dict[Platform, MediaRule] = {
    Platform.TWITTER: MediaRule(4, 1, 4, False, False, _MP4_MOV, True),
    Platform.LINKEDIN: MediaRule(20, 1, 20, False, False, _MP4, False),
    Platform.INSTAGRAM: MediaRule(10, 10, 10, True, True, _MP4_MOV, False),
    Platform.THREADS: MediaRule(10, 10, 10, True, False, _MP4, False),
    # Photo posts of up to 35 images, or one video (publora-latest §5.6; TikTok takes WebP).
    Platform.TIKTOK: MediaRule(35, 1, 35, False, True, _MP4, True),
    Platform.YOUTUBE: MediaRule(0, 1, 1, False, True, _MP4_MOV, False),
    Platform.FACEBOOK: MediaRule(10, 1, 10, False, False, _MP4_MOV, False),
    Platform.BLUESKY: MediaRule(4, 1, 4, False, False, _MP4, False),
    Platform.MASTODON: MediaRule(4, 1, 4, False, False, _MP4_MOV, False),
    Platform.TELEGRAM: MediaRule(10, 10, 10, True, False, _MP4, False),
    Platform.SANDBOX: MediaRule(4, 1, 4, False, False, VIDEO_TYPES, True),
}


def describe_bytes(size: int) -> str:
    """`512 MB` for whole mebibytes, as Publora states its cap; otherwise the bytes."""
    mebibyte = 1024 * 1024
    if size % mebibyte == 0:
        return f"{size // mebibyte} MB"
    return f"{size:,} bytes"


def media_rule(platform: Platform) -> MediaRule:
    return _RULES[platform]


def accepted_type(content_type: str) -> str | None:
    """The accepted type `content_type` names, in lower case; None for anything else.

    Exactly one bare `type/subtype` from the lists: a browser reads `image/png; x=1, text/html`
    as HTML, so parameters and lists are refused, not stripped. ASCII only, since `str.lower`
    maps some other letters (the Kelvin sign) onto ASCII ones."""
    lowered = content_type.lower()
    if content_type.isascii() and (lowered in IMAGE_TYPES or lowered in VIDEO_TYPES):
        return lowered
    return None


def kind_of(content_type: str) -> str | None:
    """ "image" or "video" for the types Herald accepts, else None."""
    media_type = accepted_type(content_type)
    if media_type is None:
        return None
    return "image" if media_type in IMAGE_TYPES else "video"


@dataclass(frozen=True)
class AttachedMedia:
    kind: str  # image | video
    content_type: str


class MediaRuleError(ValueError):
    """The message names the platform and the limit; it is shown to the client as is."""


def check_attachments(platform: Platform, media: Sequence[AttachedMedia]) -> None:
    """Counts, kinds and mixing for the files attached so far (at most; not yet "required")."""
    rule = _RULES[platform]
    images = sum(1 for m in media if m.kind == "image")
    videos = len(media) - images
    name = platform.value
    if images and rule.max_images == 0:
        raise MediaRuleError(f"{name} does not accept images; it needs {rule.describe_kinds()}")
    if images > rule.max_images:
        raise MediaRuleError(f"{name} accepts at most {rule.max_images} images per post")
    if videos > rule.max_videos:
        raise MediaRuleError(
            f"{name} accepts at most {rule.max_videos} video per post"
            if rule.max_videos == 1
            else f"{name} accepts at most {rule.max_videos} videos per post"
        )
    if images and videos and not rule.mix:
        raise MediaRuleError(f"{name} does not accept images and a video in the same post")
    if len(media) > rule.max_items:
        raise MediaRuleError(f"{name} accepts at most {rule.max_items} files per post")
    for item in media:
        media_type = item.content_type.split(";", 1)[0].strip().lower()
        if item.kind == "video" and media_type not in rule.video_types:
            accepted = ", ".join(sorted(rule.video_types))
            raise MediaRuleError(f"{name} accepts video as {accepted}, not {media_type}")


def check_ready_to_publish(platform: Platform, media: Sequence[AttachedMedia]) -> None:
    """Everything check_attachments checks, plus media the platform cannot post without."""
    check_attachments(platform, media)
    rule = _RULES[platform]
    if rule.required and not media:
        raise MediaRuleError(f"{platform.value} needs {rule.describe_kinds()} to publish")


def needs_jpeg(platform: Platform, content_type: str) -> bool:
    """WebP goes to platforms that take it as is and is converted to JPEG for the others."""
    return (
        content_type.split(";", 1)[0].strip().lower() == "image/webp" and not _RULES[platform].webp
    )


# Images the platform refuses above this size: Bluesky's image embed takes at most 1,000,000
# bytes (newer lexicons 2,000,000; the smaller is safe on every PDS); Telegram's sendPhoto 10 MB.
MAX_IMAGE_BYTES = {Platform.BLUESKY: 1_000_000, Platform.TELEGRAM: 10_000_000}


def image_byte_limit(platform: Platform) -> int | None:
    return MAX_IMAGE_BYTES.get(platform)


# TikTok refuses slower video (PL/tiktok: at least 23 FPS); the message is the one Publora shows.
MIN_VIDEO_FPS = {Platform.TIKTOK: 23.0}
LOW_FPS = "Video FPS is below minimum requirement"


def check_video(platform: Platform, fps: float | None) -> None:
    """What probing a video file can tell; unknown values pass (the platform has the last word)."""
    minimum = MIN_VIDEO_FPS.get(platform)
    if minimum is not None and fps is not None and fps < minimum:
        raise MediaRuleError(LOW_FPS)
