"""The platformSettings paths Publora accepts (publora-latest §5.1), and their stored form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

_FLAG, _TEXT, _TEXTS = "flag", "text", "texts"  # boolean; string; string or list of strings
_Node = Mapping[str, Union[str, "_Node"]]

_PLAYLIST: _Node = {"id": _TEXT, "platformId": _TEXT}
_THUMBNAIL: _Node = {"mediaId": _TEXT, "id": _TEXT, "url": _TEXT, "path": _TEXT}
TIKTOK_FLAGS = (
    "allowComments",
    "allowDuet",
    "allowStitch",
    "commercialContent",
    "brandOrganic",
    "brandedContent",
)
# OAS PlatformSettingsInput (additionalProperties: false at every level), plus Herald's own:
# telegram.parseMode (the owner's markup) and bluesky.langs / bluesky.lang (language tags).
ALLOWED: _Node = {
    "instagram": {"videoType": _TEXT, "coverUrl": _TEXT, "cover_url": _TEXT, "shareToFeed": _FLAG},
    "tiktok": {"viewerSetting": _TEXT, **dict.fromkeys(TIKTOK_FLAGS, _FLAG)},
    "youtube": {
        "privacy": _TEXT,
        "title": _TEXT,
        "madeForKids": _FLAG,
        "tags": _TEXTS,
        "categoryId": _TEXT,
        "playlist": _PLAYLIST,
        "thumbnail": _THUMBNAIL,
    },
    "threads": {"replyControl": _TEXT},
    "twitter": {"replyTo": _TEXT, "quoteTweet": _TEXT},
    "telegram": {
        "disableNotification": _FLAG,
        "disableWebPagePreview": _FLAG,
        "protectContent": _FLAG,
        "parseMode": _TEXT,
    },
    "linkedin": {"repostEnabled": _FLAG, "repostParentUrn": _TEXT, "repostVisibility": _TEXT},
    "bluesky": {"langs": _TEXTS, "lang": _TEXT},
}
# Spellings Publora still accepts, stored under their current name.
_ALIASES = {"instagram.cover_url": "coverUrl", "youtube.thumbnail.id": "mediaId"}
_ALIASES["youtube.thumbnail.path"] = "url"
# Older names that get a hint instead of PLATFORM_SETTING_UNKNOWN, and are never stored.
_LEGACY = {
    "youtube.playlistId": "platformSettings.youtube.playlistId is not supported; use "
    "platformSettings.youtube.playlist.",
    "youtube.thumbnailUrl": "platformSettings.youtube.thumbnailUrl is not supported; use "
    "platformSettings.youtube.thumbnail.",
}
_STRING_FLAGS = frozenset({"tiktok", "telegram"})  # where "false", "0", "off"... are booleans
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


class PlatformSettingsError(ValueError):
    """The message is the client-facing explanation."""


class UnknownSettingError(PlatformSettingsError):
    """A path the allowlist does not have; `path` is relative to platformSettings."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Unknown platformSettings path: {path}")
        self.path = path


def normalised(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as stored: every path checked against ALLOWED down to the leaves (so an
    unknown path is refused before any value is looked at), aliases renamed, string booleans
    made booleans. Depth is bounded by ALLOWED, so the recursion is too."""
    return _object(settings, ALLOWED, "")


def _object(values: Mapping[str, Any], allowed: _Node, prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if path in _LEGACY:
            raise PlatformSettingsError(_LEGACY[path])
        rule = allowed.get(key)
        if rule is None:
            raise UnknownSettingError(path)
        name = _ALIASES.get(path, key)
        if isinstance(rule, Mapping):
            result[name] = _nested(value, rule, path)
        else:
            result[name] = _leaf(value, rule, path)
    return result


def _nested(value: Any, rule: _Node, path: str) -> dict[str, Any] | None:
    if value is None and "." in path:  # youtube.playlist / thumbnail: null clears
        return None
    if not isinstance(value, Mapping):
        raise PlatformSettingsError(f"platformSettings.{path} must be an object")
    return _object(value, rule, f"{path}.")


def _leaf(value: Any, rule: str, path: str) -> Any:
    if rule == _FLAG:
        return _flag(value, path)
    if rule == _TEXTS and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if not isinstance(value, str):
        kind = "a string or an array of strings" if rule == _TEXTS else "a string"
        raise PlatformSettingsError(f"platformSettings.{path} must be {kind}")
    return value


def _flag(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and path.split(".", 1)[0] in _STRING_FLAGS:
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    raise PlatformSettingsError(f"platformSettings.{path} must be a boolean")
