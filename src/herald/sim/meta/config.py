"""The Meta simulator's configuration: the app, the people with their Pages, Instagram
accounts and Threads profiles, container processing, quotas and which addresses it fetches."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from herald.sim.faults import ConfigError, SandboxConfig, config_wire, merge_config


@dataclass(frozen=True)
class MetaPage:
    id: str
    name: str
    instagram_id: str | None = None  # the Instagram professional account linked to it
    instagram_username: str = ""


@dataclass(frozen=True)
class MetaUser:
    id: str  # the Facebook user id
    name: str
    pages: tuple[MetaPage, ...] = ()
    threads_id: str | None = None
    threads_username: str = ""


DEFAULT_USER = MetaUser(
    id="10000000000001",
    name="Herald Sim",
    pages=(MetaPage("20000000000001", "Herald Sim Page", "17841400000000001", "herald_sim"),),
    threads_id="30000000000001",
    threads_username="herald_sim",
)


@dataclass(frozen=True)
class MetaConfig:
    common: SandboxConfig = field(default_factory=SandboxConfig)
    app_id: str = "herald-sim-app"
    app_secret: str = "herald-sim-secret"  # noqa: S105 - the simulator's own, well known
    redirect_uris: tuple[str, ...] = (
        "http://127.0.0.1:8080/connect/facebook/callback",
        "http://127.0.0.1:8080/connect/instagram/callback",
        "http://127.0.0.1:8080/connect/threads/callback",
    )
    users: tuple[MetaUser, ...] = (DEFAULT_USER,)
    processing_s: float = 0.0  # a container stays IN_PROGRESS this long after its fetch
    fetch_timeout_s: float = 10.0
    # Meta fetches media from the internet; the simulator only from these networks (loopback
    # by default), so a test's media URL is really fetched and nothing else ever is.
    fetch_networks: tuple[str, ...] = ("127.0.0.0/8",)
    instagram_quota: int = 100  # API-published posts per rolling 24 hours [docs]
    threads_quota: int = 250  # [docs]
    short_token_ttl_s: int = 3600
    long_token_ttl_s: int = 60 * 86400


def meta_config_wire(config: MetaConfig) -> dict[str, Any]:
    wire = {k: v for k, v in asdict(config).items() if k not in {"common", "users", "app_secret"}}
    wire["redirect_uris"] = list(config.redirect_uris)
    wire["fetch_networks"] = list(config.fetch_networks)
    return config_wire(config.common) | wire


_NUMBERS = ("processing_s", "fetch_timeout_s")
_COUNTS = ("instagram_quota", "threads_quota", "short_token_ttl_s", "long_token_ttl_s")


def merge_meta_config(config: MetaConfig, changes: object) -> MetaConfig:
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    lists = ("fetch_networks", "redirect_uris")
    own = {k: changes[k] for k in (*_NUMBERS, *_COUNTS, *lists) if k in changes}
    common = merge_config(config.common, {k: v for k, v in changes.items() if k not in own})
    updates: dict[str, Any] = {}
    for name, value in own.items():
        if name == "fetch_networks":
            updates[name] = _networks(value)
        elif name == "redirect_uris":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError("redirect_uris must be a list of URLs")
            updates[name] = tuple(value)
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{name} must be a non-negative number")
        else:
            updates[name] = int(value) if name in _COUNTS else float(value)
    return replace(config, common=common, **updates)


def _networks(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("fetch_networks must be a list of networks")
    try:
        return tuple(str(ipaddress.ip_network(v)) for v in value)
    except ValueError as exc:
        raise ConfigError(f"fetch_networks: {exc}") from None
