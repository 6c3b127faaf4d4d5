"""Short signed tokens (the OAuth state, connect links): fields, an expiry and an HMAC.

Each purpose signs with its own key derived from the installation's key ring
(`keys.derived_keys`), so a token made for one purpose never passes as another, and a token
signed before a key rotation still verifies until the old key is pruned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime

from herald.domain.timestamps import utc_now

# A token is at most this long; anything longer is not ours, and is refused before any work.
MAX_TOKEN_CHARACTERS = 1024


class BadTokenError(Exception):
    """The token was not made by this Herald, or was changed."""


class ExpiredTokenError(Exception):
    """The token is genuine but its time is up."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(keys: Sequence[bytes], fields: Sequence[str], expires_at: datetime) -> str:
    payload = json.dumps([list(fields), int(expires_at.timestamp())], separators=(",", ":"))
    body = _b64(payload.encode())
    mac = hmac.new(keys[0], body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(keys: Sequence[bytes], token: str, now: datetime | None = None) -> list[str]:
    """The fields of a genuine, unexpired token; BadTokenError or ExpiredTokenError otherwise."""
    if len(token) > MAX_TOKEN_CHARACTERS or not token.isascii() or token.count(".") != 1:
        raise BadTokenError
    body, mac_text = token.split(".")
    try:
        mac = _unb64(mac_text)
    except ValueError:
        raise BadTokenError from None
    expected = (hmac.new(k, body.encode("ascii"), hashlib.sha256).digest() for k in keys)
    if not any(hmac.compare_digest(mac, e) for e in expected):
        raise BadTokenError
    fields, expiry = json.loads(_unb64(body))
    if (now or utc_now()).timestamp() >= expiry:
        raise ExpiredTokenError
    return [str(f) for f in fields]
