"""X's API v2 over the shared HTTP client: its address, the user's bearer token, and transport
failures mapped onto the error taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.net.http_client import (
    Body,
    HttpClient,
    HttpResponse,
)
from herald.platforms._http import header_token, transport_failures, url_option
from herald.platforms.base import (
    AuthExpiredError,
)

DEFAULT_API_URL = "https://api.x.com"
# X's web app shows a tweet at this address whatever the user's handle; the handle form
# (x.com/<username>/status/<id>) is used when the account's username is known.
WEB_URL = "https://x.com"


@dataclass(frozen=True)
class XApi:
    client: HttpClient
    base_url: str  # "https://api.x.com", no trailing slash
    token: str

    async def send(
        self,
        method: str,
        path: str,
        *,
        may_exist: bool = False,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        content: Body | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """X's answer, whatever its status. `may_exist`: the request could create a tweet, so
        losing the answer after sending leaves the outcome unknown."""
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        with transport_failures("X", "tweet", _BAD_URL, may_exist=may_exist):
            return await self.client.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=json,
                content=content,
                headers=all_headers,
            )


_BAD_URL = "The X connection's apiUrl is not a valid http:// or https:// URL; reconnect the account"


def api_url(options: Mapping[str, Any]) -> str:
    """The connection's `apiUrl` (X's own by default) without a trailing slash."""
    return url_option(options, "apiUrl", _BAD_URL, DEFAULT_API_URL)


def api_for(client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]) -> XApi:
    token = header_token(credentials)
    if token is None:
        raise AuthExpiredError("The X connection has no access token; reconnect the account")
    return XApi(client, api_url(options), token)


def tweet_url(tweet_id: str, username: str | None = None) -> str:
    """Where X shows a tweet."""
    return f"{WEB_URL}/{username or 'i/web'}/status/{tweet_id}"
