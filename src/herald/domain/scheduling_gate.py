"""What a post must have before it may be scheduled, told in Publora's validation envelope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from herald.domain.media_rules import media_rule
from herald.domain.platform import Platform

_NAMES = {Platform.INSTAGRAM: "Instagram", Platform.TIKTOK: "TikTok", Platform.YOUTUBE: "YouTube"}
# How to get out of it with the REST endpoints (publora-latest §2.14: the second suggestion).
_RECOVERY = (
    "Create the post without scheduledTime, upload the file with POST /api/v1/get-upload-url "
    "and a PUT to its uploadUrl, then schedule it with PUT /api/v1/update-post/{postGroupId}"
)


def scheduling_errors(platforms: Iterable[Platform], media_count: int) -> list[dict[str, Any]]:
    """One error item per platform that cannot publish what the post has (publora-latest
    §5.8); the other rules are checked when text is planned and files are attached."""
    errors = []
    for platform in dict.fromkeys(platforms):
        rule = media_rule(platform)
        if not rule.required or media_count:
            continue
        name = _NAMES.get(platform, platform.value)
        video_only = rule.max_images == 0
        message = f"{name} requires a video" if video_only else f"{name} posts require media"
        errors.append(
            {
                "platform": platform.value,
                "code": "VIDEO_REQUIRED" if video_only else "MEDIA_REQUIRED",
                "message": message,
                "field": "media",
                "severity": "error",
                "suggestions": [
                    "Upload a video for this platform"
                    if video_only
                    else "Upload an image or video for this platform",
                    _RECOVERY,
                ],
            }
        )
    return errors


def validation_envelope(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "valid": not errors,
        "errors": errors,
        "warnings": [],
        "summary": {
            "errorCount": len(errors),
            "warningCount": 0,
            "affectedPlatforms": sorted({e["platform"] for e in errors}),
        },
    }
