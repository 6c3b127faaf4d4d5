"""Validation of `platformSettings`, per platform (publora-spec §4.14, publora-latest §5).

Sizes first, then the strict allowlist of paths (settings_allowlist), then the allowed values."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from herald.domain.settings_allowlist import TIKTOK_FLAGS, PlatformSettingsError, normalised

__all__ = [
    "PlatformSettingsError",
    "SettingTooLongError",
    "tweet_id_of",
    "validate_platform_settings",
]

_TIKTOK_VIEWERS = frozenset(
    {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}
)
YOUTUBE_TITLE_LIMIT = 100
# Any string in platformSettings, known field or not: YouTube's description limit, the longest
# text limit of any per-platform field. Keys are names, never text.
STRING_LIMIT = 5000
KEY_LIMIT = 100


class SettingTooLongError(PlatformSettingsError):
    """A string (or a key) of platformSettings over its maximum; `field` is its path."""

    def __init__(self, message: str, field: str, limit: int) -> None:
        super().__init__(message)
        self.field = field
        self.limit = limit


def validate_platform_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as they are stored; raises PlatformSettingsError (UnknownSettingError for a
    path Publora does not know)."""
    _check_sizes(settings)
    result = normalised(settings)
    for platform, values in result.items():
        check = _CHECKS.get(platform)
        if check is not None:
            check(values)
    if isinstance(result.get("twitter"), Mapping):
        result["twitter"] = _twitter(result["twitter"])
    return result


# A tweet's id (1-19 digits), bare or in its x.com / twitter.com status URL (publora-latest §5.2).
_TWEET_ID = re.compile(r"[0-9]{1,19}")
_TWEET_URL = re.compile(
    r"(?:https?://)?(?:www\.|mobile\.)?(?:x|twitter)\.com/(?:i/web|[A-Za-z0-9_]{1,50})"
    r"/status(?:es)?/([0-9]{1,19})(?:[/?#][^\s]*)?",
    re.IGNORECASE,
)
_TWEET_FIELDS = ("replyTo", "quoteTweet")


def tweet_id_of(value: str) -> str | None:
    """The tweet id a `replyTo` or `quoteTweet` value names, or None if it names none."""
    value = value.strip()
    if _TWEET_ID.fullmatch(value):
        return value
    match = _TWEET_URL.fullmatch(value)
    return match.group(1) if match else None


def _twitter(values: Mapping[str, Any]) -> dict[str, Any]:
    """X's reply and quote targets, stored as ids; "" clears one."""
    stored = dict(values)
    for field in _TWEET_FIELDS:
        value = stored.get(field)
        if not isinstance(value, str) or value == "":
            continue
        tweet_id = tweet_id_of(value)
        if tweet_id is None:
            raise PlatformSettingsError(
                f"platformSettings.twitter.{field} must be a tweet URL "
                "(https://x.com/user/status/123...) or a numeric tweet ID"
            )
        stored[field] = tweet_id
    return stored


# Where a value sits: its parent's place and its own key or index; rendered only for an error.
_Place = tuple["_Place | None", str | int]


def _check_sizes(settings: Mapping[str, Any]) -> None:
    """Every string and key at any depth, walked without recursion (nesting is unbounded)."""
    pending: list[tuple[_Place, Any]] = [((None, "platformSettings"), settings)]
    while pending:
        place, value = pending.pop()
        if isinstance(value, str) and len(value) > STRING_LIMIT:
            path = _path(place)
            message = f"{path} must be at most {STRING_LIMIT} characters"
            raise SettingTooLongError(message, path, STRING_LIMIT)
        if isinstance(value, Mapping):
            if any(len(str(key)) > KEY_LIMIT for key in value):
                path = _path(place)
                message = f"{path} keys must be at most {KEY_LIMIT} characters"
                raise SettingTooLongError(message, path, KEY_LIMIT)
            pending.extend(((place, str(key)), item) for key, item in reversed(list(value.items())))
        elif isinstance(value, list):
            pending.extend(
                ((place, index), item) for index, item in reversed(list(enumerate(value)))
            )


def _path(place: _Place) -> str:
    names: list[str] = []
    node: _Place | None = place
    while node is not None:
        node, name = node
        names.append(f"[{name}]" if isinstance(name, int) else f".{name}")
    return "".join(reversed(names)).lstrip(".")


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
    for flag in TIKTOK_FLAGS:
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


def _check_threads(values: Mapping[str, Any]) -> None:
    allowed = frozenset({"everyone", "accounts_you_follow", "mentioned_only", ""})
    _one_of("threads", "replyControl", values, allowed)


def _check_linkedin(values: Mapping[str, Any]) -> None:
    if values.get("repostVisibility") not in (None, "", "PUBLIC", "CONNECTIONS"):
        raise PlatformSettingsError(
            "platformSettings.linkedin.repostVisibility must be one of: PUBLIC, CONNECTIONS"
        )


_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "threads": _check_threads,
    "linkedin": _check_linkedin,
    "tiktok": _check_tiktok,
    "instagram": _check_instagram,
    "youtube": _check_youtube,
    "telegram": _check_telegram,
}
