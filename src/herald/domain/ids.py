"""Wire ids: 24 lowercase hex characters in the ObjectId layout (time, process random, counter)."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import threading
import time

_PROCESS_RANDOM = os.urandom(5)
_counter = itertools.count(secrets.randbelow(1 << 24))
_counter_lock = threading.Lock()
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def new_id() -> str:
    """A new id that sorts roughly by creation time, unique across processes."""
    with _counter_lock:
        count = next(_counter) & 0xFFFFFF
    raw = int(time.time()).to_bytes(4, "big") + _PROCESS_RANDOM + count.to_bytes(3, "big")
    return raw.hex()


def is_id(value: str) -> bool:
    return _OBJECT_ID.fullmatch(value) is not None
