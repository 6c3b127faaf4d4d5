"""The X simulator's OAuth 2.0 grants: authorization codes bound to client, redirect URI and
PKCE challenge; access tokens with a lifetime; refresh tokens that rotate on every use;
revocation. Plain state, no HTTP: the endpoints in herald.sim.x.oauth speak the wire.

Tokens are looked up by their SHA-256, so a lookup's timing says nothing about a token's bytes.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from herald.sim.x.config import XUser

OFFLINE = "offline.access"
PKCE_METHODS = ("S256", "plain")  # X accepts both (docs: authorization-code, "Parameters")


class GrantError(Exception):
    """A token-endpoint refusal: X's `error` code and `error_description` text."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


# X's texts for a code or token it does not accept (seen in client issue threads, e.g.
# PLhery/node-twitter-api-v2#496): always invalid_request, never invalid_grant.
# (A fresh exception per refusal: one instance raised again and again would keep growing its
# traceback.)
BAD_CODE = ("invalid_request", "Value passed for the authorization code was invalid.")
BAD_TOKEN = ("invalid_request", "Value passed for the token was invalid.")
BAD_VERIFIER = ("invalid_request", "Value passed for the code verifier was invalid.")


def _key(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def _token() -> str:
    return secrets.token_urlsafe(48)


def s256(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(slots=True)
class Grant:
    """One consent: a user let an app act with these scopes. Every token descends from one;
    revoking the grant (the user removing the app) ends them all."""

    user: XUser
    client_id: str
    scope: tuple[str, ...]
    revoked: bool = False


@dataclass(slots=True)
class AccessToken:
    grant: Grant
    expires_at: float  # time.monotonic()
    revoked: bool = False

    def valid(self) -> bool:
        return not (self.revoked or self.grant.revoked) and time.monotonic() < self.expires_at


@dataclass(slots=True)
class RefreshToken:
    grant: Grant
    spent: bool = False  # used once already: X rotates refresh tokens


@dataclass(slots=True)
class _Code:
    grant: Grant
    redirect_uri: str
    challenge: str
    method: str
    expires_at: float
    used: bool = False


@dataclass
class TokenStats:
    codes_issued: int = 0
    codes_exchanged: int = 0
    refreshes: int = 0  # successful refresh grants
    refused: int = 0  # token requests answered with an error
    refreshes_by_user: Counter[str] = field(default_factory=Counter)


class TokenStore:
    """Codes, tokens and grants. One event loop owns it; nothing here awaits, so a refresh
    token cannot be spent twice by two concurrent requests."""

    def __init__(self) -> None:
        self._codes: dict[bytes, _Code] = {}
        self._access: dict[bytes, AccessToken] = {}
        self._refresh: dict[bytes, RefreshToken] = {}
        self.grants: list[Grant] = []
        self.stats = TokenStats()

    def issue_code(
        self, grant: Grant, redirect_uri: str, challenge: str, method: str, ttl_s: float
    ) -> str:
        code = _token()
        expires = time.monotonic() + ttl_s
        self._codes[_key(code)] = _Code(grant, redirect_uri, challenge, method, expires)
        self.stats.codes_issued += 1
        return code

    def exchange_code(
        self, code: str, client_id: str, redirect_uri: str, verifier: str, ttl_s: float
    ) -> dict[str, Any]:
        """The token answer for an authorization code, or GrantError. A code works once, within
        its lifetime, for the app and redirect URI it was issued to, with the right verifier."""
        held = self._codes.get(_key(code))
        if held is None or held.used or time.monotonic() >= held.expires_at:
            raise GrantError(*BAD_CODE)
        if held.grant.client_id != client_id or held.redirect_uri != redirect_uri:
            raise GrantError(*BAD_CODE)
        expected = s256(verifier) if held.method == "S256" else verifier
        if not secrets.compare_digest(expected.encode(), held.challenge.encode()):
            raise GrantError(*BAD_VERIFIER)
        held.used = True
        self.grants.append(held.grant)
        self.stats.codes_exchanged += 1
        return self._issue(held.grant, ttl_s)

    def refresh(self, refresh_token: str, client_id: str, ttl_s: float) -> dict[str, Any]:
        """A new access token and a new refresh token; the one presented is spent."""
        held = self._refresh.get(_key(refresh_token))
        if held is None or held.spent or held.grant.revoked or held.grant.client_id != client_id:
            raise GrantError(*BAD_TOKEN)
        held.spent = True
        self.stats.refreshes += 1
        self.stats.refreshes_by_user[held.grant.user.id] += 1
        return self._issue(held.grant, ttl_s)

    def mint(self, grant: Grant, ttl_s: float) -> dict[str, Any]:
        """Tokens for a grant made without the browser (the control API's shortcut)."""
        self.grants.append(grant)
        return self._issue(grant, ttl_s)

    def _issue(self, grant: Grant, ttl_s: float) -> dict[str, Any]:
        access = _token()
        self._access[_key(access)] = AccessToken(grant, time.monotonic() + ttl_s)
        answer: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": max(1, round(ttl_s)),
            "access_token": access,
            "scope": " ".join(grant.scope),
        }
        if OFFLINE in grant.scope:  # X issues a refresh token only with offline.access
            refresh = _token()
            self._refresh[_key(refresh)] = RefreshToken(grant)
            answer["refresh_token"] = refresh
        return answer

    def bearer(self, value: str) -> AccessToken | None:
        """The live access token `value` names, or None (unknown, expired or revoked)."""
        token = self._access.get(_key(value))
        return token if token is not None and token.valid() else None

    def revoke(self, value: str, client_id: str) -> None:
        """RFC 7009: ends an access or refresh token of the app; unknown tokens are ignored.
        Revoking a refresh token ends its grant's access tokens too."""
        key = _key(value)
        access = self._access.get(key)
        if access is not None and access.grant.client_id == client_id:
            access.revoked = True
        refresh = self._refresh.get(key)
        if refresh is not None and refresh.grant.client_id == client_id:
            refresh.spent = True
            for token in self._access.values():
                if token.grant is refresh.grant:
                    token.revoked = True

    def revoke_grants(self, user_id: str, client_id: str | None) -> int:
        """The user removed the app (or every app): each grant's tokens stop working."""
        ended = 0
        for grant in self.grants:
            if grant.user.id == user_id and client_id in (None, grant.client_id):
                ended += not grant.revoked
                grant.revoked = True
        return ended

    def expire(self, user_id: str | None) -> int:
        """Ends the live access tokens (of one user); their refresh tokens still work."""
        now, ended = time.monotonic(), 0
        for token in self._access.values():
            if token.valid() and user_id in (None, token.grant.user.id):
                token.expires_at = now
                ended += 1
        return ended
