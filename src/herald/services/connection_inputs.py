"""What connecting an account takes, per platform: fields in, credentials and options out.

The same fields come from `herald connections add` and from `POST /api/v1/platform-connections`
(camelCase there). Secrets go into `credentials` (encrypted at rest); everything else into
`options`, the connection's non-secret settings such as an instance URL.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from herald.domain.platform import Platform
from herald.errors import ValidationError, check_length

DEFAULT_BLUESKY_PDS = "https://bsky.social"
DEFAULT_TELEGRAM_API = "https://api.telegram.org"
# Any field: tokens and passwords are far shorter, and URLs longer than this are not in use.
FIELD_MAX_CHARACTERS = 2048

# `@name` (5–32 letters, digits, underscores) or a numeric id such as -1001234567890.
_TELEGRAM_CHAT = re.compile(r"^(?:@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$")
# A Telegram bot token: the bot's numeric id, a colon, then the secret part.
_TELEGRAM_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")


@dataclass(frozen=True)
class ConnectionInput:
    platform: Platform
    credentials: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


def connection_input(
    platform: object, fields: Mapping[str, Any], labels: Mapping[str, str] | None = None
) -> ConnectionInput:
    """Check the fields a platform needs and split them; ValidationError names what is wrong,
    calling each field by its label (the command line's flag names) when one is given."""
    labels = labels or {}
    for name, value in fields.items():
        if isinstance(value, str):
            check_length(labels.get(name, name), value, FIELD_MAX_CHARACTERS)
    if not isinstance(platform, str) or not platform:
        raise ValidationError("platform is required", code="MISSING_FIELD")
    parse = _PARSERS.get(platform)
    if parse is None:
        known = ", ".join(sorted(_PARSERS))
        detail = "cannot be connected yet" if platform in set(Platform) else "is unknown"
        raise ValidationError(
            f"Platform {platform!r} {detail}; connectable platforms: {known}",
            code="PLATFORM_NOT_SUPPORTED",
        )
    return parse(_Fields(fields, labels))


@dataclass(frozen=True)
class _Fields:
    values: Mapping[str, Any]
    labels: Mapping[str, str]

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def label(self, name: str) -> str:
        return self.labels.get(name, name)


def _bluesky(fields: _Fields) -> ConnectionInput:
    handle = _required(fields, "handle", "Bluesky").removeprefix("@")
    password = _required(fields, "appPassword", "Bluesky")
    pds = _url(fields, "pdsUrl", "Bluesky") or DEFAULT_BLUESKY_PDS
    return ConnectionInput(
        Platform.BLUESKY,
        credentials={"identifier": handle, "appPassword": password},
        options={"pdsUrl": pds},
    )


def _mastodon(fields: _Fields) -> ConnectionInput:
    instance = _url(fields, "instanceUrl", "Mastodon")
    if instance is None:
        raise ValidationError(
            f"Mastodon needs {fields.label('instanceUrl')}, the instance's address "
            "(https://mastodon.social)",
            code="MISSING_FIELD",
        )
    token = _required(fields, "accessToken", "Mastodon")
    return ConnectionInput(
        Platform.MASTODON, credentials={"accessToken": token}, options={"instanceUrl": instance}
    )


def _telegram(fields: _Fields) -> ConnectionInput:
    token = _required(fields, "botToken", "Telegram")
    if not _TELEGRAM_TOKEN.match(token):
        raise ValidationError(
            f"Telegram {fields.label('botToken')} does not look like a bot token "
            "(123456789:AA...); copy it from @BotFather",
            code="INVALID_FIELD",
        )
    chat = _required(fields, "chat", "Telegram")
    if not _TELEGRAM_CHAT.match(chat):
        raise ValidationError(
            f"Telegram {fields.label('chat')} must be a channel username (@mychannel) "
            "or a numeric chat id (-1001234567890)",
            code="INVALID_FIELD",
        )
    api = _url(fields, "apiUrl", "Telegram") or DEFAULT_TELEGRAM_API
    return ConnectionInput(
        Platform.TELEGRAM, credentials={"botToken": token}, options={"apiUrl": api, "chat": chat}
    )


def _sandbox(fields: _Fields) -> ConnectionInput:
    base = _url(fields, "baseUrl", "The sandbox")
    return sandbox_input({"baseUrl": base} if base else {})


def sandbox_input(options: Mapping[str, Any] | None = None) -> ConnectionInput:
    """A sandbox connection with a token of its own: the simulator ties each sandbox account
    to the first token that posts for it, so only that connection can read its posts back."""
    credentials = {"token": secrets.token_urlsafe(32)}
    return ConnectionInput(Platform.SANDBOX, credentials=credentials, options=dict(options or {}))


def _required(fields: _Fields, name: str, platform: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{platform} needs {fields.label(name)}", code="MISSING_FIELD")
    return value.strip()


def _url(fields: _Fields, name: str, platform: str) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(
            f"{platform} {fields.label(name)} must be an http:// or https:// URL",
            code="INVALID_FIELD",
        )
    return str(value).strip().rstrip("/")


_PARSERS = {
    Platform.BLUESKY.value: _bluesky,
    Platform.MASTODON.value: _mastodon,
    Platform.TELEGRAM.value: _telegram,
    Platform.SANDBOX.value: _sandbox,
}
