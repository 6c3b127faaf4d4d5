"""X simulator config: registered apps, users, token lifetimes, limits, rate windows and the
shared fault knobs."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from herald.sim.faults import SANDBOX_ONLY, ConfigError, SandboxConfig, config_wire, merge_config

# The sandbox's knobs that mean the same here; its `token` does not (X has users and apps).
_COMMON = frozenset(
    ("latency_ms", "latency_jitter_ms", "retry_after_s", "hang_s", "idempotency_ttl_s", "seed")
) | {"faults"}
_WHOLE = ("max_weighted_length", "max_media_per_tweet")
_SECONDS = ("access_token_ttl_s", "code_ttl_s", "duplicate_window_s", "rate_window_s")
_OPTIONAL_SECONDS = ("timeline_delay_s", "processing_s")
_OPTIONAL_LIMITS = (
    "tweets_per_window",
    "deletes_per_window",
    "reads_per_window",
    "media_per_window",
    "app_tweets_per_day",
    "user_tweets_per_day",
)
# Scopes X's consent screen knows (docs: fundamentals/authentication/oauth-2-0/authorization-code).
SCOPES = frozenset(
    [
        "tweet.read",
        "tweet.write",
        "tweet.moderate.write",
        "users.email",
        "users.read",
        "follows.read",
        "follows.write",
        "offline.access",
        "space.read",
        "mute.read",
        "mute.write",
        "like.read",
        "like.write",
        "list.read",
        "list.write",
        "block.read",
        "block.write",
        "bookmark.read",
        "bookmark.write",
        "dm.read",
        "dm.write",
        "media.write",
    ]
)


@dataclass(frozen=True)
class XApp:
    """A registered developer app. Without a secret it is a public client (client_id in the
    body); with one, a confidential client that must use HTTP Basic at the token endpoint."""

    client_id: str
    redirect_uris: tuple[str, ...]
    client_secret: str | None = None
    name: str = "Herald"


@dataclass(frozen=True)
class XUser:
    id: str  # decimal, like X's user ids
    username: str  # without the @
    name: str = ""
    profile_image_url: str = ""
    verified: bool = False


# A ready app and user for `herald sim x` and dry runs; no secret, the simulator is local.
DEFAULT_APP = XApp(
    client_id="herald-sim-client",
    client_secret="herald-sim-secret",  # noqa: S106
    redirect_uris=(
        "http://127.0.0.1:8080/connect/twitter/callback",
        "http://localhost:8080/connect/twitter/callback",
    ),
)
DEFAULT_USER = XUser(id="1700000000000000001", username="herald_sim", name="Herald Simulator")


@dataclass(frozen=True)
class XConfig:
    # Latency, faults (on POST /2/tweets) and hangs, with the sandbox's meaning and checks.
    common: SandboxConfig = field(default_factory=SandboxConfig)
    apps: tuple[XApp, ...] = (DEFAULT_APP,)
    users: tuple[XUser, ...] = (DEFAULT_USER,)
    access_token_ttl_s: float = 7200.0  # X: two hours; applies to tokens issued from now on
    code_ttl_s: float = 30.0  # X: an authorization code must be exchanged within 30 s
    max_weighted_length: int = 280
    max_media_per_tweet: int = 4
    duplicate_window_s: float = 86400.0  # identical text of the same user within it: 403
    timeline_delay_s: float = 0.0  # how long a new tweet stays out of GET /2/users/:id/tweets
    processing_s: float = 1.0  # how long uploaded video and GIFs stay in processing
    rate_window_s: float = 900.0  # X's 15-minute windows
    tweets_per_window: int | None = 100  # POST /2/tweets, per user
    deletes_per_window: int | None = 50  # DELETE /2/tweets/:id, per user
    reads_per_window: int | None = 900  # each GET endpoint, per user
    media_per_window: int | None = 1875  # the media upload endpoints, per user
    app_tweets_per_day: int | None = 10000  # POST /2/tweets, per app, 24 hours
    user_tweets_per_day: int | None = None  # POST /2/tweets, per user, 24 hours (tier-bound)


def x_config_wire(config: XConfig) -> dict[str, Any]:
    wire = config_wire(config.common)
    for name in ("token", *SANDBOX_ONLY):
        del wire[name]
    own = {f.name: getattr(config, f.name) for f in fields(config)}
    del own["common"]
    own["apps"] = [app_wire(app) for app in config.apps]
    own["users"] = [asdict(user) for user in config.users]
    return {**wire, **own}


def app_wire(app: XApp) -> dict[str, Any]:
    """An app as the control API shows it: never its secret, only whether it has one."""
    return {
        "client_id": app.client_id,
        "redirect_uris": list(app.redirect_uris),
        "confidential": app.client_secret is not None,
        "name": app.name,
    }


def merge_x_config(config: XConfig, changes: object) -> XConfig:
    """`config` with the fields of a JSON object replaced, all or nothing. Apps and users are
    added through their own control routes, not here."""
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    common_changes = {name: value for name, value in changes.items() if name in _COMMON}
    updates = {name: _field(name, value) for name, value in changes.items() if name not in _COMMON}
    return replace(config, common=merge_config(config.common, common_changes), **updates)


def _field(name: str, value: object) -> Any:
    if name in _WHOLE:
        return _positive_int(name, value)
    if name in _OPTIONAL_LIMITS:
        return None if value is None else _positive_int(name, value)
    if name in _SECONDS:
        return _seconds(name, value, allow_zero=False)
    if name in _OPTIONAL_SECONDS:
        return _seconds(name, value, allow_zero=True)
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


def new_app(body: object, taken: dict[str, XApp]) -> XApp:
    """An app from a control-API body `{"client_id", "redirect_uris": [...], "client_secret"?,
    "name"?}`; ConfigError when a field is wrong or the client id is in use."""
    if not isinstance(body, dict):
        raise ConfigError("an app must be a JSON object")
    client_id, secret = body.get("client_id"), body.get("client_secret")
    uris, name = body.get("redirect_uris"), body.get("name", "Herald")
    if not isinstance(client_id, str) or not client_id or not client_id.isprintable():
        raise ConfigError("client_id must be a non-empty string")
    if client_id in taken:
        raise ConfigError("an app with that client_id exists")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise ConfigError("client_secret must be a non-empty string or absent")
    if not isinstance(uris, list) or not uris or not all(_is_uri(uri) for uri in uris):
        raise ConfigError("redirect_uris must be a non-empty list of http(s) URLs")
    if not isinstance(name, str) or not name:
        raise ConfigError("name must be a non-empty string")
    return XApp(client_id, tuple(uris), secret, name)


def _is_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith(("http://", "https://")) and uri.isprintable()


def new_user(body: object, taken: dict[str, XUser], next_id: str) -> XUser:
    """A user from a control-API body `{"username", "id"?, "name"?, "profile_image_url"?,
    "verified"?}`; ConfigError when a field is wrong or the id or username is in use."""
    if not isinstance(body, dict):
        raise ConfigError("a user must be a JSON object")
    username, user_id = body.get("username"), body.get("id", next_id)
    name, image = body.get("name", ""), body.get("profile_image_url", "")
    verified = body.get("verified", False)
    if not isinstance(username, str) or not username.isascii() or not username.isidentifier():
        raise ConfigError("username must be letters, digits and underscores")
    if not isinstance(user_id, str) or not (user_id.isascii() and user_id.isdecimal()):
        raise ConfigError("id must be a string of digits")
    if not isinstance(name, str) or not isinstance(image, str) or not isinstance(verified, bool):
        raise ConfigError("name and profile_image_url must be strings, verified a boolean")
    clash = [u for u in taken.values() if u.username.lower() == username.lower()]
    if user_id in taken or clash:
        raise ConfigError("a user with that id or username exists")
    return XUser(user_id, username, name, image, verified)
