"""The platforms Herald publishes to, by their wire names, and the public connection id format."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
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


# One bit per platform in `post_group.platform_bits`, the set of a group's platforms stored for
# the list filter. Stored values: never renumber, only add.
PLATFORM_BITS: dict[Platform, int] = {
    Platform.TWITTER: 1 << 0,
    Platform.LINKEDIN: 1 << 1,
    Platform.INSTAGRAM: 1 << 2,
    Platform.THREADS: 1 << 3,
    Platform.TIKTOK: 1 << 4,
    Platform.YOUTUBE: 1 << 5,
    Platform.FACEBOOK: 1 << 6,
    Platform.BLUESKY: 1 << 7,
    Platform.MASTODON: 1 << 8,
    Platform.TELEGRAM: 1 << 9,
    Platform.SANDBOX: 1 << 10,
}


def platform_bits(platforms: Iterable[str]) -> int:
    """The set of platforms as bits (names that are no platform add nothing)."""
    bits = 0
    for name in platforms:
        with contextlib.suppress(ValueError):
            bits |= PLATFORM_BITS[Platform(name)]
    return bits


def prefix_bits(prefix: str) -> int:
    """The platforms whose name starts with `prefix`, in any case (list-posts' filter)."""
    wanted = prefix.lower()
    return platform_bits(p.value for p in Platform if p.value.startswith(wanted))
