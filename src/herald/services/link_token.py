"""Short HMAC-signed tokens for links Herald hands out (a managed user's connections page).

Each purpose signs with its own key derived from the installation's key ring, so a token made
for one purpose never passes as another, and one signed before a key rotation still verifies
until the old key is pruned. Signing is deterministic: the same fields give the same token,
which is how a link is given again without storing it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence

# A token is at most this long; anything longer is not ours, and is refused before any work.
MAX_TOKEN_CHARACTERS = 512


class BadTokenError(Exception):
    """Not made by this Herald for this purpose, or changed."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(keys: Sequence[bytes], fields: Sequence[str | int]) -> str:
    body = _b64(json.dumps(list(fields), separators=(",", ":")).encode())
    mac = hmac.new(keys[0], body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(keys: Sequence[bytes], token: str) -> list[str | int]:
    """The fields of a genuine token; BadTokenError otherwise. Expiry is the caller's to check."""
    if len(token) > MAX_TOKEN_CHARACTERS or not token.isascii() or token.count(".") != 1:
        raise BadTokenError
    body, mac_text = token.split(".")
    try:
        mac = _unb64(mac_text)
        expected = [hmac.new(k, body.encode("ascii"), hashlib.sha256).digest() for k in keys]
        if not any(hmac.compare_digest(mac, e) for e in expected):
            raise BadTokenError
        fields = json.loads(_unb64(body))
    except (ValueError, UnicodeError):
        raise BadTokenError from None
    if not isinstance(fields, list) or not all(isinstance(f, str | int) for f in fields):
        raise BadTokenError
    return fields
