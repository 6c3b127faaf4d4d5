"""Record keys for posts: a TID derived from the idempotency key, so re-sends name one record.

A TID (https://atproto.com/specs/tid) is a 64-bit integer written as 13 characters of
base32-sortable (`234567abcdefghijklmnopqrstuvwxyz`, most significant first): the top bit 0, then
53 bits of microseconds since the Unix epoch, then a 10-bit clock id. `app.bsky.feed.post` takes
only TID keys, and the PDS refuses a second record at a key (HTTP 500), so a key that never changes
between attempts makes a re-send unable to create a second post.

The key is derived, never drawn: the whole seconds come from the time the owner asked for (it
never moves on retries), and the microseconds within that second and the clock id come from a
hash of the idempotency key, so two targets scheduled for the same second still differ (20 + 10
hash bits). A post without a scheduled time gets a hash-derived second within a year from
2023-01-01, which keeps the key a plausible, valid TID.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")

_MICROS_LIMIT = 1 << 53
_CLOCK_IDS = 1 << 10
_UNDATED_FROM_S = 1_672_531_200  # 2023-01-01T00:00:00Z
_UNDATED_SPAN_S = 365 * 24 * 3600


def record_key(idempotency_key: str, scheduled_at: datetime | None) -> str:
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    sub_second = int.from_bytes(digest[0:4], "big") % 1_000_000
    clock_id = int.from_bytes(digest[4:6], "big") % _CLOCK_IDS
    undated = _UNDATED_FROM_S + int.from_bytes(digest[6:10], "big") % _UNDATED_SPAN_S
    seconds = int(scheduled_at.timestamp()) if scheduled_at is not None else undated
    micros = seconds * 1_000_000 + sub_second
    if not 0 <= micros < _MICROS_LIMIT:  # before 1970 or after 2255: not a TID time
        micros = undated * 1_000_000 + sub_second
    return encode_tid(micros, clock_id)


def encode_tid(micros: int, clock_id: int) -> str:
    value = (micros << 10) | clock_id
    characters = []
    for _ in range(13):
        characters.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(characters))


def decode_tid(tid: str) -> tuple[int, int]:
    """(microseconds since the epoch, clock id) of a TID."""
    value = 0
    for character in tid:
        value = value * 32 + ALPHABET.index(character)
    return value >> 10, value & (_CLOCK_IDS - 1)


def is_tid(text: str) -> bool:
    return TID.fullmatch(text) is not None
