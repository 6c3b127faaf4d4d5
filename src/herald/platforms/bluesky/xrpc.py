"""XRPC over Herald's HTTP client: the PDS's address, its error bodies, and how its answers map
onto the taxonomy.

Every call is `GET|POST {pds}/xrpc/{nsid}`; a failure answers `{"error": Name, "message": text}`
with an HTTP status (https://atproto.com/specs/xrpc). The names the connector acts on:

    400 InvalidRequest, RecordNotFound, ...    the request is wrong: permanent
    400|401 ExpiredToken, InvalidToken         the session is stale: renew it and try once more
    401 AuthenticationRequired                 wrong identifier or password, or no session
    413 PayloadTooLarge                        a blob over the PDS's upload limit
    429 RateLimitExceeded                      `RateLimit-Reset` (epoch seconds) says when to return
    5xx InternalServerError, UpstreamFailure, NotEnoughResources, UpstreamTimeout
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from herald.net.http_client import (
    HttpClient,
    HttpResponse,
    InvalidUrl,
)
from herald.platforms._http import cause, redact, retry_after_seconds
from herald.platforms.base import (
    AuthExpiredError,
    PublishError,
    RejectedError,
    RetryableError,
)

DEFAULT_PDS = "https://bsky.social"
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})


def pds_url(options: Mapping[str, Any]) -> str:
    value = options.get("pdsUrl") or DEFAULT_PDS
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise RejectedError(
            "The Bluesky connection's pdsUrl is not an http:// or https:// URL; "
            "reconnect it with the address of the account's PDS (https://bsky.social)"
        )
    return value.rstrip("/")


@dataclass(frozen=True)
class XrpcError:
    status: int
    name: str
    message: str
    retry_after: float | None

    @classmethod
    def of(cls, response: HttpResponse) -> XrpcError:
        try:
            body = response.json()
        except ValueError:
            body = None
        name = body.get("error") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        return cls(
            status=response.status_code,
            name=name if isinstance(name, str) and name else f"HTTP {response.status_code}",
            message=message if isinstance(message, str) else "",
            retry_after=retry_after_seconds(response.headers),
        )

    @property
    def stale_session(self) -> bool:
        return self.status in (400, 401) and self.name in TOKEN_ERRORS

    def detail(self, secrets: Sequence[str]) -> str:
        text = f"{self.name}: {self.message}" if self.message else self.name
        return redact(text, *secrets)


def stale_session(response: HttpResponse) -> bool:
    return response.status_code in (400, 401) and XrpcError.of(response).stale_session


def failure(error: XrpcError, subject: str, secrets: Sequence[str]) -> PublishError:
    """The taxonomy error for a refused call that created no post; `subject` names what was
    refused ("the post", "an image upload")."""
    detail = error.detail(secrets)
    status = error.status
    if status == 429:
        return RetryableError.rate_limit(
            f"Rate limited by Bluesky: {detail}", error.retry_after, status
        )
    if status == 401 or error.stale_session:
        return AuthExpiredError(f"Bluesky refused the session: {detail}", http_status=status)
    if status == 413:
        return RejectedError(f"Bluesky refused {subject} as too large: {detail}", http_status=413)
    if 400 <= status < 500:
        return RejectedError(f"Bluesky rejected {subject}: {detail}", http_status=status)
    return RetryableError(
        f"Bluesky failed {subject} with HTTP {status}: {detail}",
        retry_after=error.retry_after,
        http_status=status,
    )


def unreachable(exc: Exception) -> RetryableError:
    return RetryableError(f"Could not reach Bluesky ({cause(exc)})")


class Pds:
    """One PDS reached through the shared client; transport errors are left to the caller,
    which alone knows whether the call may have created something."""

    def __init__(self, client: HttpClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    async def get(
        self, nsid: str, params: Mapping[str, str], token: str | None = None
    ) -> HttpResponse:
        return await self._send("GET", nsid, token, params=params)

    async def post(self, nsid: str, token: str | None = None, **body: Any) -> HttpResponse:
        """`body` is the client's: `json=...`, or `content=...` with a `content_type`."""
        content_type = body.pop("content_type", None)
        headers = {"Content-Type": content_type} if content_type else {}
        return await self._send("POST", nsid, token, headers=headers, **body)

    async def _send(
        self, method: str, nsid: str, token: str | None, **arguments: Any
    ) -> HttpResponse:
        headers = dict(arguments.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return await self.client.request(
                method, f"{self.base_url}/xrpc/{nsid}", headers=headers, **arguments
            )
        except InvalidUrl:
            raise RejectedError("The Bluesky connection's pdsUrl is not a valid URL") from None
