"""All the TikTok simulator's state: its config, tokens, the creator, posts and their uploads."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from herald.sim.faults import ConfigError, FaultInjector

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
MB = 1024 * 1024


@dataclass(frozen=True)
class TikTokConfig:
    latency_ms: float = 0.0
    client_key: str = "herald-sim-client-key"
    client_secret: str = "herald-sim-secret"  # noqa: S105 - the simulator's demo app
    redirect_uris: tuple[str, ...] = ("http://127.0.0.1:8080/connect/tiktok/callback",)
    open_id: str = "-000heraldSimOpenId0001"
    username: str = "heraldsim"
    display_name: str = "Herald Sim"
    access_token_ttl_s: int = 86400  # 24 h [docs]
    refresh_token_ttl_s: int = 31536000  # 365 days [docs]
    # creator_info/query's answer: what this creator may use [docs]
    privacy_level_options: tuple[str, ...] = PRIVACY_LEVELS
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    processing_s: float = 0.0  # from the last byte (or the pull) to PUBLISH_COMPLETE


_TUPLES = ("redirect_uris", "privacy_level_options")


def config_wire(config: TikTokConfig) -> dict[str, Any]:
    wire = asdict(config)
    wire.pop("client_secret")
    for name in _TUPLES:
        wire[name] = list(wire[name])
    return wire


def merge_config(config: TikTokConfig, changes: object) -> TikTokConfig:
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    known = {f.name for f in fields(TikTokConfig)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ConfigError(f"unknown config fields {unknown}")
    updates = {name: _value(getattr(config, name), name, value) for name, value in changes.items()}
    return replace(config, **updates)


def _value(current: object, name: str, value: object) -> Any:
    if name in _TUPLES:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name} must be a list of strings")
        return tuple(value)
    if isinstance(current, bool | str):
        if type(value) is not type(current):
            raise ConfigError(f"{name} must be a {type(current).__name__}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{name} must be a non-negative number")
    return type(current)(value)  # type: ignore[call-arg]


@dataclass(slots=True)
class Post:
    publish_id: str
    kind: str  # video | photo
    source: str  # FILE_UPLOAD | PULL_FROM_URL
    post_info: dict[str, Any]
    size: int = 0
    chunk_size: int = 0
    chunk_count: int = 0
    received: int = 0
    urls: list[str] = field(default_factory=list)
    digest: Any = field(default_factory=hashlib.sha256)
    complete_at: float | None = None  # time.monotonic() of the last byte or the pull
    post_id: str | None = None

    def status(self, processing_s: float) -> str:
        if self.complete_at is None:
            return "PROCESSING_UPLOAD"
        if time.monotonic() - self.complete_at < processing_s:
            return "PROCESSING_DOWNLOAD" if self.source == "PULL_FROM_URL" else "PROCESSING_UPLOAD"
        return "PUBLISH_COMPLETE"


class TikTokSim:
    def __init__(self, config: TikTokConfig) -> None:
        self.initial = config
        self.config = config
        self.injector = FaultInjector(None)  # the shared /_sim/script; TikTok draws no faults
        self.reset()

    def configure(self, changes: object) -> None:
        self.config = merge_config(self.config, changes)

    def reset(self) -> None:
        self.config = self.initial
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> (redirect, scope, challenge)
        self.tokens: dict[str, tuple[float, str]] = {}  # access -> (expires, scope)
        self.refresh_tokens: dict[str, tuple[float, str]] = {}
        self.posts: dict[str, Post] = {}
        self.stats: dict[str, int] = dict.fromkeys(
            (
                "creator_queries",
                "inits",
                "chunks",
                "bytes_received",
                "status_fetches",
                "refreshes",
                "codes_exchanged",
                "published",
            ),
            0,
        )

    def stats_wire(self) -> dict[str, Any]:
        return dict(self.stats)

    def issue(self, scope: str) -> dict[str, Any]:
        config, now = self.config, time.monotonic()
        access = "act." + secrets.token_urlsafe(32)
        refresh = "rft." + secrets.token_urlsafe(32)
        self.tokens[access] = (now + config.access_token_ttl_s, scope)
        self.refresh_tokens[refresh] = (now + config.refresh_token_ttl_s, scope)
        return {
            "access_token": access,
            "expires_in": config.access_token_ttl_s,
            "open_id": config.open_id,
            "refresh_expires_in": config.refresh_token_ttl_s,
            "refresh_token": refresh,
            "scope": scope,
            "token_type": "Bearer",
        }

    def refresh(self, token: str) -> dict[str, Any] | None:
        """A new pair; the refresh token presented is spent [chosen: TikTok may rotate it]."""
        found = self.refresh_tokens.pop(token, None)
        if found is None or found[0] < time.monotonic():
            return None
        self.stats["refreshes"] += 1
        return self.issue(found[1])

    def scope_of(self, access: str) -> str | None:
        found = self.tokens.get(access)
        return found[1] if found is not None and found[0] >= time.monotonic() else None

    def expire_tokens(self) -> int:
        live = list(self.tokens)
        for token in live:
            self.tokens[token] = (time.monotonic() - 1, self.tokens[token][1])
        return len(live)

    def new_post(self, kind: str, source: str, post_info: dict[str, Any]) -> Post:
        post = Post("v_pub_" + secrets.token_hex(10), kind, source, post_info)
        self.posts[post.publish_id] = post
        self.stats["inits"] += 1
        return post

    def complete(self, post: Post) -> None:
        post.complete_at = time.monotonic()
        post.post_id = str(
            7_300_000_000_000_000_000 + len(self.posts) * 7919 + secrets.randbelow(997)
        )
        self.stats["published"] += 1
