"""The platforms Herald publishes to, by their wire names, and the public connection id format."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    TWITTER = "twitter"
    LINKEDIN = "linkedin"
    INSTAGRAM = "instagram"
    THREADS = "threads"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    FACEBOOK = "facebook"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    TELEGRAM = "telegram"
    SANDBOX = "sandbox"


def platform_id(platform: Platform, external_id: str) -> str:
    """The public id of a connection: `<platform>-<external id>` (`telegram--100123`)."""
    return f"{platform.value}-{external_id}"


def split_platform_id(value: str) -> tuple[Platform, str] | None:
    """Split on the first `-` only (DIDs and negative chat ids contain more); None if invalid.
    No platform's id holds a NUL, which PostgreSQL refuses in text."""
    name, sep, external_id = value.partition("-")
    if not sep or not external_id or "\x00" in external_id:
        return None
    try:
        return Platform(name), external_id
    except ValueError:
        return None
