"""LinkedIn's REST API over the shared HTTP client: its address, the member's bearer token, the
version headers every versioned call needs, and transport failures mapped onto the taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.net.http_client import Body, HttpClient, HttpResponse
from herald.platforms._http import header_token, transport_failures, url_option
from herald.platforms.base import (
    AuthExpiredError,
)

DEFAULT_API_URL = "https://api.linkedin.com"
# HERALD_LINKEDIN_VERSION's default, for calls made without the engine (connect, tests).
DEFAULT_VERSION = "202610"
FEED_URL = "https://www.linkedin.com/feed/update/"
_BAD_URL = (
    "The LinkedIn connection's apiUrl is not a valid http:// or https:// URL; reconnect the account"
)


@dataclass(frozen=True)
class LinkedInApi:
    client: HttpClient
    base_url: str  # "https://api.linkedin.com", no trailing slash
    token: str
    version: str = DEFAULT_VERSION

    async def send(
        self,
        method: str,
        path: str,
        *,
        may_exist: bool = False,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        versioned: bool = True,
    ) -> HttpResponse:
        """LinkedIn's answer, whatever its status. `may_exist`: the call could create a post,
        so losing the answer after sending leaves the outcome unknown."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if versioned:
            headers |= {"LinkedIn-Version": self.version, "X-Restli-Protocol-Version": "2.0.0"}
        return await self._call(
            method, f"{self.base_url}{path}", may_exist, params, json, None, headers
        )

    async def put_bytes(self, url: str, content: Body, *, with_token: bool) -> HttpResponse:
        """PUT an upload's bytes to the URL LinkedIn handed out (images and documents take the
        token; video part URLs are pre-signed). A PUT creates no post: never in doubt."""
        headers = {"Content-Type": "application/octet-stream"}
        if with_token:
            headers["Authorization"] = f"Bearer {self.token}"
        return await self._call("PUT", url, False, None, None, content, headers)

    async def _call(
        self,
        method: str,
        url: str,
        may_exist: bool,
        params: Mapping[str, str | int] | None,
        json: Any,
        content: Body | None,
        headers: Mapping[str, str],
    ) -> HttpResponse:
        with transport_failures("LinkedIn", "post", _BAD_URL, may_exist=may_exist):
            return await self.client.request(
                method, url, params=params, json=json, content=content, headers=headers
            )


def api_url(options: Mapping[str, Any]) -> str:
    return url_option(options, "apiUrl", _BAD_URL, DEFAULT_API_URL)


def version_of(options: Mapping[str, Any]) -> str:
    version = options.get("linkedinVersion")
    return version if isinstance(version, str) and version.isdigit() else DEFAULT_VERSION


def api_for(
    client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
) -> LinkedInApi:
    token = header_token(credentials)
    if token is None:
        raise AuthExpiredError("The LinkedIn connection has no access token; reconnect it")
    return LinkedInApi(client, api_url(options), token, version_of(options))


def post_url(urn: str) -> str:
    """Where LinkedIn shows a post: the feed update page of its URN."""
    return f"{FEED_URL}{urn}"
