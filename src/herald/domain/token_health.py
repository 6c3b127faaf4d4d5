"""`tokenStatus` and `tokenExpiresIn` of a connection (Publora §2.17): pure rules."""

from __future__ import annotations

from datetime import datetime, timedelta

# Publora: an OAuth access token with less than 7 days left is `expiring_soon`.
EXPIRING_SOON = timedelta(days=7)


def token_status(
    *, platform: str, status: str, expires_at: datetime | None, username: str, now: datetime
) -> str:
    """`expired` when the platform rejected the credential (whatever the date) or its effective
    expiry has passed; `expiring_soon` within a week of it; `unknown` for a Bluesky connection
    without a username; `valid` otherwise, including credentials that never expire or that
    Herald renews itself (their effective expiry is null)."""
    if status == "needs_reauth":
        return "expired"
    if platform == "bluesky" and not username:
        return "unknown"
    if expires_at is None:
        return "valid"
    left = expires_at - now
    if left <= timedelta(0):
        return "expired"
    return "expiring_soon" if left < EXPIRING_SOON else "valid"


def token_expires_in(expires_at: datetime | None, now: datetime) -> str | None:
    """Publora's forms: "82d 4h", "5h" (under a day), "< 1h", "expired", or null (no expiry)."""
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
