"""PKCE (RFC 7636) with the S256 method: a random verifier kept by Herald, its hash sent ahead."""

from __future__ import annotations

import base64
import hashlib
import secrets

# 32 random bytes give a 43-character verifier, the shortest RFC 7636 §4.1 allows.
_VERIFIER_BYTES = 32


def new_verifier() -> str:
    return secrets.token_urlsafe(_VERIFIER_BYTES)


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))) without padding (§4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
