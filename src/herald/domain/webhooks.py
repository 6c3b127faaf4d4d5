"""Webhook events, the signed envelope (Publora §3) and the retry schedule: pure rules."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from herald.domain.timestamps import format_timestamp

EVENTS = ("post.scheduled", "post.published", "post.failed", "post.demoted", "token.expiring")
MAX_WEBHOOKS = 10  # per user, as Publora
MAX_CONSECUTIVE_FAILURES = 5  # given-up deliveries in a row before a webhook is disabled
RETRY_WINDOW = timedelta(hours=24)  # a delivery is retried this long after its event
MAX_RETRY_DELAY = timedelta(hours=1)


def envelope(event: str, data: dict[str, Any], at: datetime) -> str:
    """The exact text sent and signed; stored once, so every retry sends the same bytes."""
    payload = {"version": "1", "event": event, "timestamp": format_timestamp(at), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def publora_signature(secret: str, body: bytes) -> str:
    """`X-Publora-Signature`: hex HMAC-SHA256 of the raw body, keyed with the secret string."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def herald_signature(secret: str, timestamp: int, body: bytes) -> str:
    """`X-Herald-Signature`: the same over `<timestamp>.<body>`, so a receiver that checks the
    timestamp's age can refuse a replayed request (Publora's signature has no time in it)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, event: str, delivery_id: str, body: bytes, unix_time: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Publora-Signature": publora_signature(secret, body),
        "X-Publora-Event": event,
        "X-Herald-Delivery": delivery_id,
        "X-Herald-Timestamp": str(unix_time),
        "X-Herald-Signature": herald_signature(secret, unix_time, body),
    }


def retry_delay(attempts: int, base: timedelta) -> timedelta:
    """After the n-th failed attempt: base, twice base, four times base... capped at an hour."""
    delay: timedelta = base * (2 ** min(attempts - 1, 20))
    return min(delay, MAX_RETRY_DELAY)
