"""Mastodon simulator config: accounts, instance limits, rate limits and the shared fault knobs."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from herald.sim.faults import (
    SANDBOX_ONLY,
    ConfigError,
    SandboxConfig,
    config_wire,
    merge_config,
)

MIB = 1024 * 1024
RESET_FORMATS = ("iso", "epoch")

# The sandbox's knobs that mean the same here; its `token` does not (Mastodon has accounts).
_COMMON = frozenset(
    ("latency_ms", "latency_jitter_ms", "retry_after_s", "hang_s", "idempotency_ttl_s", "seed")
) | {"faults"}
_COUNTS = ("max_characters", "max_media_attachments", "description_limit")
_SIZES = ("image_size_limit", "video_size_limit")


@dataclass(frozen=True)
class MastodonAccount:
    id: str  # decimal, like Mastodon's snowflake ids
    username: str
    token: str  # the bearer token that acts as this account
    display_name: str = ""
    avatar: str = ""  # URL; empty: the instance's "missing" avatar


# A ready account for `herald sim` and dry runs; its token is no secret, the simulator is local.
DEFAULT_ACCOUNT = MastodonAccount(
    id="109876543210",
    username="herald",
    token="herald-sim-token",  # noqa: S106
    display_name="Herald Simulator",
)


@dataclass(frozen=True)
class MastodonConfig:
    # Latency, faults, hangs and the idempotency TTL, with the sandbox's meaning and checks.
    common: SandboxConfig = field(default_factory=SandboxConfig)
    accounts: tuple[MastodonAccount, ...] = (DEFAULT_ACCOUNT,)
    max_characters: int = 500
    max_media_attachments: int = 4
    description_limit: int = 1500
    image_size_limit: int = 16 * MIB
    video_size_limit: int = 99 * MIB
    processing_delay_s: float = 2.0  # how long video, GIF and audio stay "processing"
    rate_limit: int | None = 300  # requests per account and window; None: unlimited
    rate_window_s: float = 300.0
    reset_format: str = "iso"  # X-RateLimit-Reset: "iso" as Mastodon sends, "epoch" as mocks do


def mastodon_config_wire(config: MastodonConfig) -> dict[str, Any]:
    wire = config_wire(config.common)
    for name in ("token", *SANDBOX_ONLY):
        del wire[name]
    own = {f.name: getattr(config, f.name) for f in fields(config)}
    del own["common"]
    own["accounts"] = [_account_wire(account) for account in config.accounts]
    return {**wire, **own}


def _account_wire(account: MastodonAccount) -> dict[str, Any]:
    wire = asdict(account)
    del wire["token"]  # the control API never shows a token back
    return wire


def merge_mastodon_config(config: MastodonConfig, changes: object) -> MastodonConfig:
    """`config` with the fields of a JSON object replaced, all or nothing."""
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    common_changes = {name: value for name, value in changes.items() if name in _COMMON}
    updates = {name: _field(name, value) for name, value in changes.items() if name not in _COMMON}
    return replace(config, common=merge_config(config.common, common_changes), **updates)


def _field(name: str, value: object) -> Any:
    if name in _COUNTS or name in _SIZES:
        return _positive_int(name, value)
    if name == "rate_limit":
        return None if value is None else _positive_int(name, value)
    if name == "processing_delay_s":
        return _seconds(name, value, allow_zero=True)
    if name == "rate_window_s":
        return _seconds(name, value, allow_zero=False)
    if name == "reset_format":
        if value in RESET_FORMATS:
            return value
        raise ConfigError(f"reset_format must be one of {', '.join(RESET_FORMATS)}")
    raise ConfigError(f"unknown config field {name!r}")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1")
    return value


def _seconds(name: str, value: object, *, allow_zero: bool) -> float:
    number = math.nan
    if not isinstance(value, bool) and isinstance(value, int | float):
        number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ConfigError(f"{name} must be a {kind} number of seconds")
    return number


def new_account(body: object, taken: dict[str, MastodonAccount], next_id: int) -> MastodonAccount:
    """An account from a control-API body `{"username", "token", "id"?, "display_name"?,
    "avatar"?}`; ConfigError when a field is wrong or the id or token is in use."""
    if not isinstance(body, dict):
        raise ConfigError("an account must be a JSON object")
    username, token = body.get("username"), body.get("token")
    if not isinstance(username, str) or not username.isascii() or not username.isidentifier():
        raise ConfigError("username must be letters, digits and underscores")
    if not isinstance(token, str) or not token:
        raise ConfigError("token must be a non-empty string")
    account_id = body.get("id", str(next_id))
    if not isinstance(account_id, str) or not (account_id.isascii() and account_id.isdecimal()):
        raise ConfigError("id must be a string of digits")
    display_name, avatar = body.get("display_name", ""), body.get("avatar", "")
    if not isinstance(display_name, str) or not isinstance(avatar, str):
        raise ConfigError("display_name and avatar must be strings")
    clash = [a for a in taken.values() if account_id == a.id or username == a.username]
    if token in taken or clash:
        raise ConfigError("an account with that id, username or token exists")
    return MastodonAccount(account_id, username, token, display_name, avatar)
