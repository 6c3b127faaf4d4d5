"""Meta's logins differ from plain OAuth 2.0 in three places, handled here for the providers:

- Facebook Login's code exchange is a GET (`/oauth/access_token?client_id&redirect_uri&
  client_secret&code`), and gives a short-lived user token that is traded at once for a
  long-lived one (`grant_type=fb_exchange_token`, 60 days) [docs].
- One login gives several connections: each Page in `/me/accounts` with its own Page token
  (from a long-lived user token it does not expire) and, for Instagram, each professional
  account linked to one of those Pages, which publishes with that Page's token.
- Threads exchanges its code with a POST like any OAuth server, then trades the 1-hour token for
  a 60-day one (`th_exchange_token`), and renews that token with itself
  (`/refresh_access_token?grant_type=th_refresh_token`): no refresh token exists.

Graph's refusals are `{"error": {"message", "code", ...}}`; code 190 (the token is gone) is
reported as RFC 6749's invalid_grant, so the token keeper asks the owner to connect again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from herald.net.http_client import HttpClient, HttpError, HttpResponse, NotSent
from herald.oauth.token_endpoint import OAuthError, TokenSet, exchange_code, parse_token_set

if TYPE_CHECKING:
    from herald.oauth.providers import OAuthApp

# What one login yields: per connection its tokens and the options its connector verifies with.
Accounts = list[tuple[TokenSet, dict[str, str]]]


async def graph_exchange(client: HttpClient, app: OAuthApp, code: str, redirect: str) -> TokenSet:
    """Facebook Login's code for a long-lived user token."""
    secret = app.client_secret or ""
    short = await _get(
        client,
        app.token_url,
        {
            "client_id": app.client_id,
            "client_secret": secret,
            "redirect_uri": redirect,
            "code": code,
        },
    )
    long = await _get(
        client,
        app.token_url,
        {
            "grant_type": "fb_exchange_token",
            "client_id": app.client_id,
            "client_secret": secret,
            "fb_exchange_token": short.access_token,
        },
    )
    return TokenSet(long.access_token, None, long.expires_at, ",".join(app.provider.scopes))


async def threads_exchange(client: HttpClient, app: OAuthApp, code: str, redirect: str) -> TokenSet:
    """The Threads code for a short-lived token (a POST), then for a long-lived one."""
    short = await exchange_code(client, app, code, redirect, None)
    long = await _get(
        client,
        f"{app.api_url}/access_token",
        {
            "grant_type": "th_exchange_token",
            "client_secret": app.client_secret or "",
            "access_token": short.access_token,
        },
    )
    return TokenSet(long.access_token, None, long.expires_at, short.scope or _scopes(app))


async def threads_renew(client: HttpClient, app: OAuthApp, tokens: TokenSet) -> TokenSet:
    """A long-lived Threads token (at least a day old, not expired) for a new one."""
    params = {"grant_type": "th_refresh_token", "access_token": tokens.access_token}
    renewed = await _get(client, f"{app.api_url}/refresh_access_token", params)
    return TokenSet(renewed.access_token, None, renewed.expires_at, tokens.scope)


async def facebook_pages(client: HttpClient, app: OAuthApp, user: TokenSet) -> Accounts:
    """Each Page the user manages, with its Page token."""
    return [
        (TokenSet(page["access_token"], None, None, user.scope), {})
        for page in await _pages(client, app, user)
    ]


async def instagram_accounts(client: HttpClient, app: OAuthApp, user: TokenSet) -> Accounts:
    """Each Instagram professional account linked to one of the user's Pages, published to
    with that Page's token (which does not expire, unlike the user's)."""
    found: Accounts = []
    for page in await _pages(client, app, user):
        linked = page.get("instagram_business_account")
        if isinstance(linked, Mapping) and isinstance(linked.get("id"), str):
            found.append(
                (
                    TokenSet(page["access_token"], None, None, user.scope),
                    {"accountId": linked["id"]},
                )
            )
    return found


async def _pages(client: HttpClient, app: OAuthApp, user: TokenSet) -> list[Mapping[str, Any]]:
    version = app.provider.authorize_path.split("/")[1]  # "/v24.0/dialog/oauth"
    body = await _get_json(
        client,
        f"{app.api_url}/{version}/me/accounts",
        {"fields": "id,name,access_token,instagram_business_account", "limit": "100"},
        user.access_token,
    )
    data = body.get("data")
    return [
        page
        for page in (data if isinstance(data, list) else [])
        if isinstance(page, Mapping) and isinstance(page.get("access_token"), str)
    ]


def _scopes(app: OAuthApp) -> str:
    return app.provider.scope_separator.join(app.provider.scopes)


async def _get(client: HttpClient, url: str, params: dict[str, str]) -> TokenSet:
    return parse_token_set(await _get_json(client, url, params, None))


async def _get_json(
    client: HttpClient, url: str, params: dict[str, str], token: str | None
) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        answer = await client.get(url, params=params, headers=headers)
    except HttpError as exc:
        raise OAuthError("unreachable", exc.kind, retryable=isinstance(exc, NotSent)) from None
    return _graph_body(answer)


def _graph_body(answer: HttpResponse) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.is_success and isinstance(body, dict):
        return body
    busy = answer.status_code == 429 or answer.status_code >= 500
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, Mapping):
        code = error.get("code")
        message = error.get("message")
        text = " ".join(message.split())[:200] if isinstance(message, str) else ""
        name = "invalid_grant" if code in (190, 102) else f"graph_error_{code}"
        raise OAuthError(name, text, status=answer.status_code, retryable=busy)
    raise OAuthError(
        "unexpected_answer", f"HTTP {answer.status_code}", status=answer.status_code, retryable=busy
    )
