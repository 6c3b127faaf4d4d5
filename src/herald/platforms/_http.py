"""HTTP helpers shared by connectors: what "not sent" means, redaction, Retry-After parsing."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

# Failures before the request left this machine: the platform cannot have created anything.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every non-empty secret replaced: platform messages are shown to the post's
    owner and logged, and a platform or a proxy may echo a credential back."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from `Retry-After` (RFC 9110: delta-seconds or an HTTP-date) or, failing
    that, a rate-limit reset header (epoch seconds, or an ISO 8601 time as Mastodon sends)."""
    current = time.time() if now is None else now
    value = headers.get("retry-after")
    if value is not None:
        parsed = _seconds_or_date(value.strip(), current)
        if parsed is not None:
            return parsed
    for name in ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset"):
        reset = headers.get(name)
        if reset is not None:
            parsed = _reset(reset.strip(), current)
            if parsed is not None:
                return parsed
    return None


def _seconds_or_date(value: str, now: float) -> float | None:
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def _reset(value: str, now: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, moment.timestamp() - now)
    # Large numbers are epoch seconds; small ones are "seconds from now" (RateLimit-Reset draft).
    return max(0.0, number - now) if number > 1_000_000_000 else max(0.0, number)
