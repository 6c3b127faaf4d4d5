"""One Mastodon instance's client API over the shared HTTP client: its address, the bearer
token, and transport failures mapped onto the error taxonomy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from yarl import URL

from herald.net.http_client import (
    HttpClient,
    HttpResponse,
)
from herald.platforms._http import transport_failures, url_option
from herald.platforms.base import Published


@dataclass(frozen=True)
class MastodonApi:
    client: HttpClient
    base_url: str  # "https://mastodon.social", no trailing slash
    token: str

    @property
    def host(self) -> str:
        parsed = URL(self.base_url)
        return parsed.host_port_subcomponent or parsed.host or self.base_url

    async def send(
        self,
        method: str,
        path: str,
        *,
        may_exist: bool = False,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        content: AsyncIterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """The instance's answer, whatever its status. `may_exist`: the request could create a
        status, so losing the answer after sending leaves the outcome unknown."""
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        instance = f"the Mastodon instance at {self.host}"
        with transport_failures(
            "Mastodon", "status", _BAD_URL, may_exist=may_exist, unreachable=instance
        ):
            return await self.client.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=json,
                content=content,
                headers=all_headers,
            )


_BAD_URL = (
    "The Mastodon connection's instanceUrl is not a valid http:// or https:// URL; "
    "reconnect it with the instance's address (https://mastodon.social)"
)


def instance_url(options: Mapping[str, Any]) -> str:
    """The connection's `instanceUrl` without a trailing slash; RejectedError if unusable."""
    return url_option(options, "instanceUrl", _BAD_URL)


def published(status: Any) -> Published:
    """A Status entity as Herald records it; LookupError or TypeError if it is not one."""
    status_id, url = status["id"], status.get("url")
    if not isinstance(status_id, str) or not status_id:
        raise TypeError("a status id must be a non-empty string")
    return Published(external_id=status_id, url=url if isinstance(url, str) else None)
