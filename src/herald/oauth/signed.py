"""Short signed tokens with an expiry (the OAuth state, connect links).

The signing is services.link_token's (one purpose-derived key per use, older ring keys still
verify); these tokens add their expiry as the last signed field, so a changed time is a forgery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from herald.domain.timestamps import utc_now
from herald.services import link_token
from herald.services.link_token import BadTokenError

__all__ = ["BadTokenError", "ExpiredTokenError", "sign", "verify"]


class ExpiredTokenError(Exception):
    """The token is genuine but its time is up."""


def sign(keys: Sequence[bytes], fields: Sequence[str], expires_at: datetime) -> str:
    return link_token.sign(keys, [*fields, int(expires_at.timestamp())])


def verify(keys: Sequence[bytes], token: str, now: datetime | None = None) -> list[str]:
    """The fields of a genuine, unexpired token; BadTokenError or ExpiredTokenError otherwise."""
    signed = link_token.verify(keys, token)
    if not signed:
        raise BadTokenError
    *fields, expiry = signed
    if not isinstance(expiry, int) or not all(isinstance(f, str) for f in fields):
        raise BadTokenError
    if (now or utc_now()).timestamp() >= expiry:
        raise ExpiredTokenError
    return [str(f) for f in fields]
