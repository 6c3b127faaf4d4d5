"""A create-post time in the past: moved to now within a tolerance, refused beyond it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# publora-latest §2.14.1: "the 5-min tolerance is permanent", strict mode or not.
PAST_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class CoercedTime:
    """A past time that was replaced by the server's now (the SCHEDULED_TIME_COERCED warning)."""

    requested: datetime
    effective: datetime


class TimeInPastError(ValueError):
    """The time is at least PAST_TOLERANCE before `now`, and strict mode refuses it."""

    def __init__(self, now: datetime) -> None:
        super().__init__("scheduled time in the past")
        self.now = now


def effective_time(
    requested: datetime, now: datetime, *, strict: bool
) -> tuple[datetime, CoercedTime | None]:
    """The time to store, and the coercion when it is not the one requested."""
    if requested >= now:
        return requested, None
    if strict and now - requested >= PAST_TOLERANCE:
        raise TimeInPastError(now)
    return now, CoercedTime(requested, now)
