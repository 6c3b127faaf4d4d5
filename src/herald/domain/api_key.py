"""API keys: `sk_<base36 time>.<32 hex>`, shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
import time

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
        if number == 0:
            return digits


def new_api_key() -> str:
    return f"sk_{_base36(int(time.time() * 1000))}.{secrets.token_hex(16)}"


def hash_api_key(key: str) -> str:
    """Keys are random, so a plain SHA-256 is enough; no salt or stretching is needed."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str:
    """The part safe to show in listings and logs, to tell keys apart."""
    return key[:12]
