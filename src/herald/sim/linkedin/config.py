"""The LinkedIn simulator's settings: its apps, members, company pages and limits."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from herald.sim.faults import ConfigError, SandboxConfig, config_wire, merge_config


@dataclass(frozen=True)
class LinkedInApp:
    client_id: str
    redirect_uris: tuple[str, ...]
    client_secret: str
    name: str = "Herald"


@dataclass(frozen=True)
class Member:
    sub: str  # the OpenID subject: urn:li:person:<sub>
    given_name: str
    family_name: str
    picture: str = ""
    followers: int = 0

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"


@dataclass(frozen=True)
class Organization:
    id: int
    name: str
    vanity_name: str
    administrators: tuple[str, ...]  # member subs holding the ADMINISTRATOR role
    followers: int = 0

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.id}"


DEFAULT_APP = LinkedInApp(
    "herald-sim-client",
    (
        "http://127.0.0.1:8080/connect/linkedin/callback",
        "http://localhost:8080/connect/linkedin/callback",
    ),
    "herald-sim-secret",
)
DEFAULT_MEMBER = Member("Tz9W5i6ZYG", "Ada", "Lovelace", followers=1200)
DEFAULT_ORGANIZATION = Organization(
    2414183, "Analytical Engines Ltd", "analytical-engines", ("Tz9W5i6ZYG",), followers=5400
)

_NUMBERS = (
    "access_token_ttl_s",
    "daily_posts_per_member",
    "duplicate_window_s",
    "processing_s",
    "video_part_bytes",
    "oldest_version",
    "newest_version",
)


@dataclass(frozen=True)
class LinkedInConfig:
    common: SandboxConfig = field(default_factory=SandboxConfig)
    apps: tuple[LinkedInApp, ...] = (DEFAULT_APP,)
    members: tuple[Member, ...] = (DEFAULT_MEMBER,)
    organizations: tuple[Organization, ...] = (DEFAULT_ORGANIZATION,)
    access_token_ttl_s: int = 60 * 86400  # [docs] 60 days
    # [recall] Share on LinkedIn: 150 posts a day per member; reset at midnight UTC.
    daily_posts_per_member: int | None = 150
    duplicate_window_s: float = 86400.0  # [chosen] how long a repeated post is refused
    processing_s: float = 0.0  # how long an uploaded video stays PROCESSING
    video_part_bytes: int = 4 * 1024 * 1024  # [docs] 4 MiB parts
    # Versions served (YYYYMM, inclusive) [chosen]: about a year, as LinkedIn keeps them.
    oldest_version: int = 202512
    newest_version: int = 202612


def wire(config: LinkedInConfig) -> dict[str, Any]:
    return {**config_wire(config.common), **{name: getattr(config, name) for name in _NUMBERS}}


def merge(config: LinkedInConfig, changes: object) -> LinkedInConfig:
    """The config with a JSON object's fields replaced: the shared ones go to `common`."""
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    own = {name: changes[name] for name in _NUMBERS if name in changes}
    for name, value in own.items():
        nullable = name == "daily_posts_per_member" and value is None
        if not nullable and (
            not isinstance(value, int | float) or isinstance(value, bool) or value < 0
        ):
            raise ConfigError(f"{name} must be a non-negative number")
    common = {k: v for k, v in changes.items() if k not in _NUMBERS}
    merged = merge_config(config.common, common) if common else config.common
    return replace(config, common=merged, **own)
