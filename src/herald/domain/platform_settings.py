"""Validation of `platformSettings`, per platform (publora-spec §4.14).

Known fields are checked for type and allowed values; unknown keys are kept and ignored, as the
Publora snapshot never rejected them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_TIKTOK_VIEWERS = frozenset(
    {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}
)
_TIKTOK_FLAGS = (
    "allowComments",
    "allowDuet",
    "allowStitch",
    "commercialContent",
    "brandOrganic",
    "brandedContent",
    "disableDuet",
    "disableStitch",
    "disableComment",
)
YOUTUBE_TITLE_LIMIT = 100


class PlatformSettingsError(ValueError):
    """The message is the client-facing explanation."""


def validate_platform_settings(settings: Mapping[str, Any]) -> None:
    for platform, values in settings.items():
        check = _CHECKS.get(platform)
        if check is None:
            continue
        if not isinstance(values, Mapping):
            raise PlatformSettingsError(f"platformSettings.{platform} must be an object")
        check(values)


def _one_of(platform: str, field: str, values: Mapping[str, Any], allowed: frozenset[str]) -> None:
    value = values.get(field)
    if value is not None and value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise PlatformSettingsError(
            f"platformSettings.{platform}.{field} must be one of: {choices}"
        )


def _boolean(platform: str, field: str, values: Mapping[str, Any]) -> None:
    value = values.get(field)
    if value is not None and not isinstance(value, bool):
        raise PlatformSettingsError(f"platformSettings.{platform}.{field} must be a boolean")


def _check_tiktok(values: Mapping[str, Any]) -> None:
    _one_of("tiktok", "viewerSetting", values, _TIKTOK_VIEWERS)
    for flag in _TIKTOK_FLAGS:
        _boolean("tiktok", flag, values)
    # TikTok's disclosure rule: brand content must be declared commercial (PL/tiktok).
    branded = values.get("brandOrganic") or values.get("brandedContent")
    if branded and not values.get("commercialContent"):
        raise PlatformSettingsError(
            "platformSettings.tiktok: brandOrganic and brandedContent require "
            "commercialContent to be true"
        )


def _check_instagram(values: Mapping[str, Any]) -> None:
    _one_of("instagram", "videoType", values, frozenset({"REELS", "STORIES"}))


def _check_youtube(values: Mapping[str, Any]) -> None:
    _one_of("youtube", "privacy", values, frozenset({"private", "public", "unlisted"}))
    title = values.get("title")
    if title is not None and not isinstance(title, str):
        raise PlatformSettingsError("platformSettings.youtube.title must be a string")
    if isinstance(title, str) and len(title) > YOUTUBE_TITLE_LIMIT:
        raise PlatformSettingsError(
            f"platformSettings.youtube.title must be at most {YOUTUBE_TITLE_LIMIT} characters"
        )


def _check_telegram(values: Mapping[str, Any]) -> None:
    _one_of("telegram", "parseMode", values, frozenset({"HTML", "MarkdownV2", "Markdown"}))
    _boolean("telegram", "disableWebPagePreview", values)


_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "tiktok": _check_tiktok,
    "instagram": _check_instagram,
    "youtube": _check_youtube,
    "telegram": _check_telegram,
}
