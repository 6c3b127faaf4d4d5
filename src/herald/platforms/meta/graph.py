"""Meta's Graph API (graph.facebook.com, and graph.threads.net which speaks the same) over the
shared HTTP client: the versioned base, the token, and transport failures mapped onto the
error taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from herald.net.http_client import HttpClient, HttpResponse
from herald.platforms._http import header_token, transport_failures, url_option
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    RejectedError,
    RetryableError,
)
from herald.platforms.meta.errors import error_for

GRAPH_URL = "https://graph.facebook.com"
THREADS_URL = "https://graph.threads.net"
GRAPH_VERSION = "v24.0"
THREADS_VERSION = "v1.0"
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class GraphApi:
    client: HttpClient
    base_url: str  # "https://graph.facebook.com/v24.0", no trailing slash
    token: str
    title: str  # "Facebook", "Instagram" or "Threads", for messages

    async def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        may_exist: bool = False,
    ) -> HttpResponse:
        """The answer, whatever its status. GET parameters go in the query, POST parameters
        in a form body; the token in the Authorization header, never in a URL."""
        headers = {"Authorization": f"Bearer {self.token}"}
        url = f"{self.base_url}{path}"
        with transport_failures(self.title, "post", bad_url(self.title), may_exist=may_exist):
            if method == "GET":
                return await self.client.request("GET", url, params=params, headers=headers)
            body = urlencode(dict(params or {})).encode()
            return await self.client.request(
                method, url, content=body, headers={**headers, **_FORM}
            )

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        subject: str,
        may_exist: bool = False,
    ) -> dict[str, Any]:
        """The JSON object of a 200 answer; the mapped error for anything else."""
        response = await self.send(method, path, params, may_exist=may_exist)
        if response.status_code != 200:
            raise error_for(response, self.token, self.title, subject, may_exist=may_exist)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            message = f"{self.title} answered {subject} with an unreadable body"
            if may_exist:
                raise OutcomeUnknownError(f"{message}; the post may exist", http_status=200)
            raise RetryableError(message, http_status=200)
        return body


def bad_url(title: str) -> str:
    return f"The {title} connection's apiUrl is not a valid http:// or https:// URL; reconnect"


def base_url(options: Mapping[str, Any], default_url: str, default_version: str, title: str) -> str:
    """The connection's `apiUrl` (Meta's own by default) and `graphVersion`, joined."""
    url = url_option(options, "apiUrl", bad_url(title), default_url)
    version = options.get("graphVersion") or default_version
    if not isinstance(version, str) or not version.replace(".", "").replace("v", "").isdigit():
        raise RejectedError(f"The {title} connection's graphVersion is not like v24.0")
    return f"{url}/{version}"


def access_token(credentials: Mapping[str, Any], title: str) -> str:
    token = header_token(credentials)
    if token is None:
        raise AuthExpiredError(f"The {title} connection has no access token; reconnect it")
    return token


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""
