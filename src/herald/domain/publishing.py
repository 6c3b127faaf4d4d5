"""Pure rules of publishing: idempotency keys, retry backoff and lateness."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

_KEY_NAMESPACE = uuid.UUID("6c1f0a4e-5d1b-4c8e-9a57-3f1e8b2d7c40")

BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=15)
MAX_ATTEMPTS = 8


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
