"""Calls to an authorization server's token endpoint (RFC 6749 §4.1.3, §6) and revocation
(RFC 7009), through the one HttpClient. Answers become a `TokenSet` or an `OAuthError`; no
message carries a token, a code or the client secret."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from herald.domain.timestamps import format_timestamp, parse_timestamp, utc_now
from herald.net.http_client import HttpClient, HttpError, HttpResponse, NotSent

if TYPE_CHECKING:  # providers build on this module's calls (Meta's token hooks)
    from herald.oauth.providers import OAuthApp

# An error description from the platform is shown on a page; a longer one is not a message.
_MAX_DESCRIPTION = 200
# A lifetime beyond this is not believed (a platform's number is untrusted): a year.
_MAX_LIFETIME = timedelta(days=366)


class OAuthError(Exception):
    """The token endpoint refused (`error` is RFC 6749's code, e.g. invalid_grant) or could
    not be reached (`error` "unreachable"; `retryable` when nothing was sent or it was busy)."""

    def __init__(
        self, error: str, description: str = "", *, status: int | None = None, retryable: bool
    ) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status
        self.retryable = retryable

    def grant_gone(self, app: OAuthApp) -> bool:
        """The grant is gone for good (revoked, spent, expired): only the owner can fix it."""
        return self.status in (400, 401) and self.error in app.provider.grant_gone


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str

    def credentials(self) -> dict[str, Any]:
        """The sealed credentials' shape (X-CONTRACT): camelCase, expiry as a wire time."""
        return {
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "expiresAt": format_timestamp(self.expires_at) if self.expires_at else None,
            "scope": self.scope,
        }

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any]) -> TokenSet:
        expires = credentials.get("expiresAt")
        return cls(
            access_token=str(credentials.get("accessToken") or ""),
            refresh_token=credentials.get("refreshToken") or None,
            expires_at=parse_timestamp(expires) if isinstance(expires, str) else None,
            scope=str(credentials.get("scope") or ""),
        )

    def keeping(self, previous: TokenSet | None) -> TokenSet:
        """A platform that does not send the refresh token again means the old one still
        works: dropping it would lose the account at the next expiry."""
        if self.refresh_token or previous is None or not previous.refresh_token:
            return self
        return TokenSet(self.access_token, previous.refresh_token, self.expires_at, self.scope)


async def exchange_code(
    client: HttpClient, app: OAuthApp, code: str, redirect_uri: str, verifier: str | None
) -> TokenSet:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return parse_token_set(await _post(client, app, app.token_url, form))


async def refresh(client: HttpClient, app: OAuthApp, refresh_token: str) -> TokenSet:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return parse_token_set(await _post(client, app, app.token_url, form))


async def revoke(client: HttpClient, app: OAuthApp, token: str, hint: str) -> None:
    """Best effort when a connection is removed; raises OAuthError like the others."""
    if app.revoke_url is None:
        return
    await _post(client, app, app.revoke_url, {"token": token, "token_type_hint": hint})


async def _post(
    client: HttpClient, app: OAuthApp, url: str, form: dict[str, str]
) -> dict[str, Any]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if app.client_secret and app.provider.client_auth == "basic":
        headers["Authorization"] = _basic(app.client_id, app.client_secret)
    else:
        form = {**form, app.provider.client_id_param: app.client_id}
        if app.client_secret:
            form["client_secret"] = app.client_secret
    try:
        answer = await client.post(url, content=urlencode(form).encode(), headers=headers)
    except HttpError as exc:
        raise OAuthError("unreachable", exc.kind, retryable=isinstance(exc, NotSent)) from None
    return _body(answer)


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 §2.3.1: each part form-encoded before the Basic encoding.
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _body(answer: HttpResponse) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.is_success and isinstance(body, dict):
        return body
    busy = answer.status_code == 429 or answer.status_code >= 500
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        text = description if isinstance(description, str) else ""
        return _raise(body["error"], text, answer.status_code, busy)
    return _raise("unexpected_answer", f"HTTP {answer.status_code}", answer.status_code, busy)


def _raise(error: str, description: str, status: int, retryable: bool) -> dict[str, Any]:
    raise OAuthError(
        error[:64],
        " ".join(description.split())[:_MAX_DESCRIPTION],
        status=status,
        retryable=retryable,
    )


def parse_token_set(body: dict[str, Any]) -> TokenSet:
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuthError("unexpected_answer", "no access_token in the answer", retryable=False)
    refresh_token = body.get("refresh_token")
    lifetime = body.get("expires_in")
    expires_at = None
    if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
        seconds = min(float(lifetime), _MAX_LIFETIME.total_seconds())
        expires_at = utc_now() + timedelta(seconds=seconds)
    scope = body.get("scope")
    return TokenSet(
        access_token=access,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        expires_at=expires_at,
        scope=scope if isinstance(scope, str) else "",
    )
