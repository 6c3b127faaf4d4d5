"""TikTok's API over the shared HTTP client: its address, the bearer token, and its envelope
({"data", "error": {"code", "message", "log_id"}}) mapped onto the taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.net.http_client import Body, HttpClient, HttpResponse
from herald.platforms._http import (
    bounded,
    header_token,
    redact,
    retry_after_seconds,
    transport_failures,
    url_option,
)
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)

DEFAULT_API_URL = "https://open.tiktokapis.com"
_AUTH = frozenset({"access_token_invalid", "scope_not_authorized", "scope_permission_missed"})
_BAD_URL = "The TikTok connection's apiUrl is not a valid http:// or https:// URL; reconnect"


@dataclass(frozen=True)
class TikTokApi:
    client: HttpClient
    base_url: str
    token: str

    async def call(self, path: str, body: Any = None, *, may_exist: bool = False) -> dict[str, Any]:
        """POST (GET without a body) and the envelope's `data`; refusals as the taxonomy says."""
        method = "GET" if body is None else "POST"
        answer = await self.send(method, f"{self.base_url}{path}", json=body, may_exist=may_exist)
        data, code, message = _envelope(answer)
        if answer.is_success and code == "ok":
            return data
        raise self.error(answer.status_code, code, message, answer, may_exist=may_exist)

    async def send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: Body | None = None,
        headers: Mapping[str, str] | None = None,
        may_exist: bool = False,
        with_token: bool = True,
    ) -> HttpResponse:
        auth = {"Authorization": f"Bearer {self.token}"} if with_token else {}
        with transport_failures("TikTok", "post", _BAD_URL, may_exist=may_exist):
            return await self.client.request(
                method, url, json=json, content=content, headers={**auth, **(headers or {})}
            )

    def error(
        self, status: int, code: str, message: str, answer: HttpResponse, *, may_exist: bool
    ) -> PublishError:
        text = bounded(redact(message, self.token)) or code or f"HTTP {status}"
        shown = f"TikTok refused the post: {text}" + (f" ({code})" if code else "")
        if status == 401 or code in _AUTH:
            return AuthExpiredError(shown, http_status=status)
        if status == 429 or code == "rate_limit_exceeded":
            return RetryableError.rate_limit(shown, retry_after_seconds(answer.headers), status)
        if status >= 500 or code == "internal_error":
            if may_exist:
                return OutcomeUnknownError(shown, http_status=status)
            return RetryableError(shown, http_status=status)
        return RejectedError(
            shown, code=f"TIKTOK_{code.upper()[:60] or 'REJECTED'}", http_status=status
        )


def _envelope(answer: HttpResponse) -> tuple[dict[str, Any], str, str]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return {}, "" if not answer.is_success else "unreadable", ""
    found, problem = body.get("data"), body.get("error")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    error: dict[str, Any] = problem if isinstance(problem, dict) else {}
    code, message = error.get("code", ""), error.get("message", "")
    return (
        data,
        code if isinstance(code, str) else "",
        message if isinstance(message, str) else "",
    )


def api_for(
    client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
) -> TikTokApi:
    token = header_token(credentials)
    if token is None:
        raise AuthExpiredError("The TikTok connection has no access token; reconnect it")
    return TikTokApi(client, url_option(options, "apiUrl", _BAD_URL, DEFAULT_API_URL), token)
