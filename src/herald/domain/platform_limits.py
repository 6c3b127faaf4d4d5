"""Herald's per-platform limits as one document (Publora's `GET /platform-limits`, publora-latest
§2.4), built from the rules Herald itself checks: `text.text_rule` for characters and threads,
`media_rules` for counts, kinds, formats and byte caps. Nothing here is a second copy of a limit:
change a rule there and this answer follows. Where Herald checks nothing (video durations,
aspect ratios) the value is null: the platform has the last word."""

from __future__ import annotations

from typing import Any

from herald.domain.media_rules import IMAGE_TYPES, image_byte_limit, media_rule
from herald.domain.platform import Platform
from herald.domain.text import text_rule

SCHEMA_VERSION = 1
SOURCE = "herald.domain"
# Bump when a rule in text.py or media_rules.py changes: clients cache until this changes.
LIMITS_LAST_UPDATED = "2026-12-05"

DISPLAY_NAMES = {
    Platform.TWITTER: "Twitter/X",
    Platform.INSTAGRAM: "Instagram",
    Platform.THREADS: "Threads",
    Platform.TIKTOK: "TikTok",
    Platform.LINKEDIN: "LinkedIn",
    Platform.YOUTUBE: "YouTube",
    Platform.FACEBOOK: "Facebook",
    Platform.MASTODON: "Mastodon",
    Platform.BLUESKY: "Bluesky",
    Platform.TELEGRAM: "Telegram",
}
# Publora's order; the sandbox is Herald's test platform and not listed.
SUPPORTED = tuple(DISPLAY_NAMES)


def platform_limits(platform: Platform, max_upload_bytes: int) -> dict[str, Any]:
    """One platform's entry; `max_upload_bytes` is the operator's cap on any file."""
    text, media = text_rule(platform), media_rule(platform)
    image_cap = image_byte_limit(platform)
    images_supported = media.max_images > 0
    return {
        "platform": platform.value,
        "displayName": DISPLAY_NAMES[platform],
        "characters": {"standard": text.limit},
        "images": {
            "supported": images_supported,
            "maxSizeBytes": min(image_cap or max_upload_bytes, max_upload_bytes)
            if images_supported
            else None,
            "maxCount": media.max_images,
            "formats": sorted(IMAGE_TYPES) if images_supported else [],
        },
        "videos": {
            "supported": media.max_videos > 0,
            "maxDurationSeconds": None,
            "maxSizeBytes": max_upload_bytes,
            "maxCount": media.max_videos,
            "formats": sorted(media.video_types),
        },
        "requirements": {
            "requiresMedia": media.required,
            "requiresVideo": media.required and not images_supported,
            "supportsTextOnly": not media.required,
            "supportsThreading": text.threads,
        },
        "documents": None,
        "gifs": None,
        "thumbnails": None,
    }


def all_platform_limits(max_upload_bytes: int) -> dict[str, Any]:
    """The body of `GET /platform-limits` after `success`."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "source": SOURCE,
        "packageVersion": "1.0.0",
        "limitsLastUpdated": LIMITS_LAST_UPDATED,
        "supportedPlatforms": [p.value for p in SUPPORTED],
        "platforms": {p.value: platform_limits(p, max_upload_bytes) for p in SUPPORTED},
    }
