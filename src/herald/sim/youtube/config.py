"""The YouTube simulator's settings: its OAuth client, channel, quota, chunk rule and faults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from herald.sim.faults import ConfigError

DEFAULT_CLIENT_ID = "herald-sim-client.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "herald-sim-secret"  # noqa: S105 - the simulator's demo app
DEFAULT_REDIRECTS = (
    "http://127.0.0.1:8080/connect/youtube/callback",
    "http://localhost:8080/connect/youtube/callback",
)
# Google's granularity for every chunk but the last: 256 KiB [docs: resumable uploads].
CHUNK_GRANULARITY = 256 * 1024
# The video categories YouTube assigns in the US region (videoCategories.list) [docs].
CATEGORIES = frozenset(
    {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
)


@dataclass(frozen=True)
class YouTubeConfig:
    latency_ms: float = 0.0
    hang_s: float = 30.0  # how long "lost_response" and "timeout" hold a chunk's answer
    seed: int | None = None
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = DEFAULT_REDIRECTS
    channel_id: str = "UCheraldSimChannel0000001"
    channel_title: str = "Herald Sim"
    channel_handle: str = "@heraldsim"
    playlist_ids: tuple[str, ...] = ("PLheraldSimPlaylist0001",)
    access_token_ttl_s: int = 3599  # Google answers expires_in 3599 [verified]
    processing_s: float = 0.0  # from the last byte to processingStatus "succeeded"
    daily_uploads: int | None = 100  # videos.insert's own bucket [docs]
    daily_units: int | None = 10_000  # every other method [docs]


_TUPLES = ("redirect_uris", "playlist_ids")


def config_wire(config: YouTubeConfig) -> dict[str, Any]:
    wire = asdict(config)
    wire.pop("client_secret")  # never shown
    for name in _TUPLES:
        wire[name] = list(wire[name])
    return wire


def merge_config(config: YouTubeConfig, changes: object) -> YouTubeConfig:
    """`config` with the fields of a JSON object replaced, each checked against its type."""
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    known = {f.name: f for f in fields(YouTubeConfig)}
    updates: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in known:
            raise ConfigError(f"unknown config field {name!r}")
        current = getattr(config, name)
        if name in _TUPLES:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{name} must be a list of strings")
            updates[name] = tuple(value)
        elif value is None and name in ("seed", "daily_uploads", "daily_units"):
            updates[name] = None
        elif isinstance(current, str) or name in ("client_secret",):
            if not isinstance(value, str):
                raise ConfigError(f"{name} must be a string")
            updates[name] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"{name} must be a non-negative number")
            whole = name in ("seed", "daily_uploads", "daily_units", "access_token_ttl_s")
            updates[name] = int(value) if whole else float(value)
    return replace(config, **updates)
