"""Bluesky simulator config: accounts, the PDS's limits and token lifetimes, latency, faults."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from herald.sim.faults import ConfigError, SandboxConfig, config_wire, merge_config

# The sandbox's fault settings mean the same here; its bearer token and idempotency keys do not
# exist on a PDS (sessions and record keys take their place).
_BEHAVIOUR_FIELDS = frozenset(
    {"latency_ms", "latency_jitter_ms", "retry_after_s", "hang_s", "seed", "faults"}
)
_POSITIVE_FIELDS = ("blob_limit_bytes", "rate_window_s", "session_window_s")
_OPTIONAL_LIMITS = ("rate_limit", "session_limit")
_SECONDS_FIELDS = ("access_ttl_s", "refresh_ttl_s")
_HANDLE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}")


@dataclass(frozen=True)
class SimAccount:
    handle: str  # lower case, like "alice.test"
    did: str
    app_password: str
    display_name: str = ""
    avatar: str = ""  # a URL, as the AppView serves it

    def wire(self) -> dict[str, str]:
        return {
            "handle": self.handle,
            "did": self.did,
            "appPassword": self.app_password,
            "displayName": self.display_name,
            "avatar": self.avatar,
        }


def did_for(handle: str) -> str:
    """A did:plc-shaped DID (24 base32 characters) that only depends on the handle."""
    digest = hashlib.sha256(handle.encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


# Not a secret: the simulator's demo account, which exists nowhere else.
DEMO_ACCOUNT = SimAccount(
    "alice.test", did_for("alice.test"), "abcd-efgh-ijkl-mnop", "Alice (simulated)"
)


@dataclass(frozen=True)
class BlueskyConfig:
    accounts: tuple[SimAccount, ...] = (DEMO_ACCOUNT,)
    blob_limit_bytes: int = 1_000_000  # uploadBlob over it: 413 PayloadTooLarge
    appview: bool = False  # False: getProfile answers 502 UpstreamFailure, like a bare PDS
    access_ttl_s: float = 7200.0  # a real PDS: access tokens 2 h,
    refresh_ttl_s: float = 7_776_000.0  # refresh tokens 90 days
    token_error_status: int = 400  # ExpiredToken/InvalidToken come as 400 (or 401 if set)
    rate_limit: int | None = None  # requests per window per client address; None: no limit
    rate_window_s: int = 300
    session_limit: int | None = 30  # createSession per identifier per window (PDS: 30 / 5 min)
    session_window_s: int = 300
    # Latency, hangs, the rate-limit fault's reset delay and fault probabilities, as the sandbox.
    behaviour: SandboxConfig = field(default_factory=SandboxConfig)


def config_to_wire(config: BlueskyConfig) -> dict[str, Any]:
    wire = asdict(config)
    wire["accounts"] = [account.wire() for account in config.accounts]
    del wire["behaviour"]
    behaviour = config_wire(config.behaviour)
    wire.update({name: value for name, value in behaviour.items() if name in _BEHAVIOUR_FIELDS})
    return wire


def merge_bluesky_config(config: BlueskyConfig, changes: object) -> BlueskyConfig:
    """`config` with the fields of a JSON object replaced; `faults` merges name by name and
    accounts change only through `add_account`."""
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    behaviour = {name: value for name, value in changes.items() if name in _BEHAVIOUR_FIELDS}
    updates: dict[str, Any] = {"behaviour": merge_config(config.behaviour, behaviour)}
    for name, value in changes.items():
        if name in _BEHAVIOUR_FIELDS:
            continue
        updates[name] = _field(name, value)
    return replace(config, **updates)


def _field(name: str, value: object) -> Any:
    if name in _POSITIVE_FIELDS or (name in _OPTIONAL_LIMITS and value is not None):
        number = _integer(value)
        if number is None or number < 1:
            raise ConfigError(f"{name} must be a positive whole number")
        return number
    if name in _OPTIONAL_LIMITS:
        return None
    if name in _SECONDS_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ConfigError(f"{name} must be a non-negative number")
        return float(value)
    if name == "appview":
        if not isinstance(value, bool):
            raise ConfigError("appview must be true or false")
        return value
    if name == "token_error_status":
        if value not in (400, 401) or isinstance(value, bool):
            raise ConfigError("token_error_status must be 400 or 401")
        return value
    raise ConfigError(f"unknown config field {name!r}")


def add_account(config: BlueskyConfig, entry: object) -> tuple[BlueskyConfig, SimAccount]:
    """`config` with one more account from `{"handle", "appPassword", "did"?, "displayName"?,
    "avatar"?}`; the DID defaults to one derived from the handle."""
    if not isinstance(entry, dict):
        raise ConfigError("an account must be a JSON object")
    handle = entry.get("handle")
    if not isinstance(handle, str) or not _HANDLE.fullmatch(handle.lower()):
        raise ConfigError("handle must be a domain name such as bob.test")
    handle = handle.lower()
    did = entry.get("did", did_for(handle))
    if not isinstance(did, str) or not _DID.fullmatch(did):
        raise ConfigError("did must be a DID such as did:plc:...")
    password = entry.get("appPassword")
    if not isinstance(password, str) or not password:
        raise ConfigError("appPassword must be a non-empty string")
    if any(known.handle == handle or known.did == did for known in config.accounts):
        raise ConfigError(f"an account with handle {handle} or DID {did} exists already")
    account = SimAccount(
        handle, did, password, _optional_text(entry, "displayName"), _optional_text(entry, "avatar")
    )
    return replace(config, accounts=(*config.accounts, account)), account


def _optional_text(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string")
    return value


def _integer(value: object) -> int | None:
    # bool is an int subclass, but `true` is never a size.
    return value if isinstance(value, int) and not isinstance(value, bool) else None
