"""Wire timestamps: strict RFC 3339 in, `YYYY-MM-DDTHH:MM:SS.sssZ` out, aware UTC inside."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

# Seconds and an explicit zone are required: a zone-less time would silently mean the server's
# zone, which is how scheduled posts end up hours off (DESIGN §3.4).
_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d+))?(?P<zone>[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,  # \d must not match other scripts' digits, such as fullwidth ones
)

# The engine computes deadlines after a scheduled time (its expiry a day later, retry delays);
# a time before this one keeps each of them within what `datetime` holds (up to year 9999).
LATEST_SCHEDULED_TIME = datetime(9999, 1, 1, tzinfo=UTC)


class InvalidTimestampError(ValueError):
    """The text is not an RFC 3339 date-time with seconds and an explicit zone."""


def parse_timestamp(text: str) -> datetime:
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise InvalidTimestampError(text)
    try:
        year, month, day = (int(part) for part in match["date"].split("-"))
        micros = int((match["frac"] or "0")[:6].ljust(6, "0"))
        zone = _parse_zone(match["zone"])
        local = datetime(
            year, month, day, int(match["h"]), int(match["m"]), int(match["s"]), micros, zone
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidTimestampError(text) from exc


def _parse_zone(zone: str) -> timezone:
    if zone in ("Z", "z"):
        return UTC
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(zone)
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if zone[0] == "-" else offset)


def format_timestamp(moment: datetime) -> str:
    """Milliseconds are truncated, never rounded, so a time never moves later than requested."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
