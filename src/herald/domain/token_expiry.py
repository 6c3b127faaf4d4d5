"""`tokenExpiresIn` as Publora's connection pages spell it (publora-latest §2.3, §6 item 5):
`"45d 3h"`, `"5h"`, `"< 1h"`, `"expired"`, or null when the token has no known expiry."""

from __future__ import annotations

from datetime import datetime, timedelta


def token_expires_in(expires_at: datetime | None, now: datetime) -> str | None:
    if expires_at is None:
        return None
    left = expires_at - now
    if left <= timedelta(0):
        return "expired"
    hours = int(left.total_seconds() // 3600)
    if hours < 1:
        return "< 1h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if days else f"{hours}h"
