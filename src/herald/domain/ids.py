"""Wire ids: 24 lowercase hex characters, a 4-byte time then 8 bytes from a CSPRNG."""

from __future__ import annotations

import re
import secrets
import time

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def new_id() -> str:
    """A new id that sorts by the second it was made and says nothing about any other id.

    The layout is ObjectId's, which Publora clients see, but the 8 bytes after the time are all
    random: with a process constant and a counter there, one id gave away its neighbours.
    Within one second ids fall in random order, so code that wants creation order sorts by
    `created_at` first."""
    return (int(time.time()).to_bytes(4, "big") + secrets.token_bytes(8)).hex()


def is_id(value: str) -> bool:
    return _OBJECT_ID.fullmatch(value) is not None
