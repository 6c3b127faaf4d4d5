"""Which bearer token owns each sandbox account: the first one that posts for it.

The sandbox has no accounts to log in to, and the simulator `herald serve` mounts is reachable
by anyone who can reach Herald. Each of Herald's sandbox connections sends a token of its own,
so tying an account to the first token seen keeps every tenant's posts to that tenant without
the simulator knowing any tenant. Tokens are kept as SHA-256 digests and compared in constant
time. An account first used without a token stays open to callers without one (connections
made before tokens existed)."""

from __future__ import annotations

import hashlib
import secrets

from starlette.requests import Request


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class AccountOwners:
    def __init__(self) -> None:
        self._digests: dict[str, bytes | None] = {}

    def claim(self, account: str, token: str | None) -> bool:
        """True if `token` owns `account`, which it now does if nobody did."""
        digest = _digest(token)
        if account not in self._digests:
            self._digests[account] = digest
            return True
        return _same(self._digests[account], digest)

    def owns(self, account: str, token: str | None) -> bool:
        """True if `token` may read `account`'s posts (an account nobody owns has none)."""
        if account not in self._digests:
            return True
        return _same(self._digests[account], _digest(token))


def _digest(token: str | None) -> bytes | None:
    return hashlib.sha256(token.encode()).digest() if token is not None else None


def _same(owner: bytes | None, caller: bytes | None) -> bool:
    if owner is None or caller is None:
        return owner is caller
    return secrets.compare_digest(owner, caller)
