"""Pure rules of publishing: idempotency keys, retry backoff and lateness."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

_KEY_NAMESPACE = uuid.UUID("6c1f0a4e-5d1b-4c8e-9a57-3f1e8b2d7c40")

BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=15)
MAX_ATTEMPTS = 8
# The longest a platform may hold a post back (Retry-After, a rate-limit reset, Telegram's
# retry_after). A post more than a day late fails as TOO_LATE anyway, so a longer wait could
# only ever end that way; and an unbounded one overflows datetime arithmetic.
MAX_PLATFORM_DELAY = timedelta(hours=24)
# A crash: the engine raised while holding a claim of the target, or the worker died (its
# lease ran out) while the claim's platform call was under way. A target with more crashes than
# this is parked as ENGINE_ERROR: three, so one unlucky restart or fault never parks a post.
MAX_CRASHES = 3
CRASH_BACKOFF_BASE = timedelta(seconds=10)


def publish_key(target_id: str, version: int) -> str:
    """Fixed per (target, version): a re-send of the same content reuses it, an edit changes it."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{target_id}:{version}"))


def part_key(key: str, part: int) -> str:
    """Each thread part is its own platform call, so each needs its own key."""
    return f"{key}-{part}"


def backoff_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)] (attempt counts from 0)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(attempt, 30)))
    fraction: float = (rng or random).random()  # jitter, not a secret
    return ceiling * fraction


def crash_backoff(crashes: int, rng: random.Random | None = None) -> timedelta:
    """How long a claim lost with its worker waits before it is taken again: full jitter over
    CRASH_BACKOFF_BASE * 2^(crashes - 1); none for a row that never counted a claim. The jitter
    is the point: a dead worker's claims come back together, and taken together again they
    would die together again, each counted against a post that did nothing wrong."""
    if crashes <= 0:
        return timedelta(0)
    ceiling = CRASH_BACKOFF_BASE * (1 << min(crashes - 1, 10))
    fraction: float = (rng or random).random()  # spreading, not a secret
    return ceiling * fraction


def bounded_delay(seconds: float | None) -> float | None:
    """A platform-supplied delay in seconds, cut to MAX_PLATFORM_DELAY however large (an int
    beyond any float, inf); None, meaning no usable delay, for NaN, a negative or a non-number."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if seconds != seconds or seconds < 0:  # NaN is the one value unequal to itself
        return None
    # min() compares an int with a float exactly, so a huge int never goes through float().
    return float(min(seconds, MAX_PLATFORM_DELAY.total_seconds()))


# A lookup that failed (platform down, timed out, unreadable) is tried again after an
# exponential wait: a reconciler that asks again at every round turns one platform hiccup into
# a flood of reads that keeps the doubt alive (and trips the read limit). Bounded well inside
# the reconciler's 24 h give-up, so a target still gets dozens of lookups before it settles.
LOOKUP_BACKOFF_BASE = timedelta(seconds=30)
LOOKUP_BACKOFF_CAP = timedelta(minutes=30)


def lookup_backoff(failures: int, rng: random.Random | None = None) -> timedelta:
    """The wait after a target's `failures`-th failed lookup (from 1): equal jitter over
    min(cap, base * 2^(failures - 1)), half of it fixed so a failing platform is always given
    a pause, half random so the targets that failed together do not come back together."""
    ceiling = min(LOOKUP_BACKOFF_CAP, LOOKUP_BACKOFF_BASE * (1 << min(max(failures - 1, 0), 30)))
    fraction: float = (rng or random).random()  # spreading, not a secret
    return ceiling / 2 + ceiling / 2 * fraction
