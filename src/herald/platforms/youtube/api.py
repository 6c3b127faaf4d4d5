"""The YouTube Data API over the shared HTTP client: its address, the bearer token, Google's
error shape mapped onto the taxonomy, and the daily quota's reset."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from herald.net.http_client import Body, HttpClient, HttpResponse
from herald.platforms._http import bounded, header_token, redact, transport_failures, url_option
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)

DEFAULT_API_URL = "https://www.googleapis.com"
WATCH_URL = "https://www.youtube.com/watch?v="
PACIFIC = ZoneInfo("America/Los_Angeles")
# Reasons that last until the quota day ends (midnight Pacific) [docs: YouTube errors].
_DAILY = frozenset({"quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded"})
_SHORT = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
_TAG = re.compile(r"<[^<>]{0,200}>")
_BAD_URL = "The YouTube connection's apiUrl is not a valid http:// or https:// URL; reconnect"


def until_quota_reset(now: datetime | None = None) -> float:
    """Seconds until the next midnight in Pacific time, when YouTube's quota day starts."""
    local = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return max(1.0, (midnight - local).total_seconds())


@dataclass(frozen=True)
class YouTubeApi:
    client: HttpClient
    base_url: str
    token: str

    async def send(
        self,
        method: str,
        path_or_url: str,
        *,
        may_exist: bool = False,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        content: Body | None = None,
        headers: Mapping[str, str] | None = None,
        with_token: bool = True,
    ) -> HttpResponse:
        """Google's answer, whatever its status; transport failures as the taxonomy says."""
        url = path_or_url if "://" in path_or_url else f"{self.base_url}{path_or_url}"
        auth = {"Authorization": f"Bearer {self.token}"} if with_token else {}
        with transport_failures("YouTube", "video", _BAD_URL, may_exist=may_exist):
            return await self.client.request(
                method,
                url,
                params=params,
                json=json,
                content=content,
                headers={**auth, **(headers or {})},
            )

    def error(self, answer: HttpResponse, *, may_exist: bool = False) -> PublishError:
        """The taxonomy's error for a refusal in Google's shape."""
        reason, message = _reason(answer)
        text = bounded(redact(_TAG.sub("", message), self.token)) or f"HTTP {answer.status_code}"
        status = answer.status_code
        shown = f"YouTube refused the request: {text}"
        if status == 401:
            return AuthExpiredError(shown, http_status=401)
        if reason in _DAILY:
            return RetryableError.rate_limit(
                f"YouTube's daily quota is spent ({reason}); retrying after midnight Pacific",
                until_quota_reset(),
                http_status=status,
            )
        if status == 429 or reason in _SHORT:
            return RetryableError.rate_limit(shown, None, http_status=status)
        if status >= 500:
            if may_exist:
                return OutcomeUnknownError(shown, http_status=status)
            return RetryableError(shown, http_status=status)
        return RejectedError(shown, code=f"YOUTUBE_{_snake(reason)}", http_status=status)


def _reason(answer: HttpResponse) -> tuple[str, str]:
    try:
        body = answer.json()
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    message = error.get("message")
    errors = error.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    reason = first.get("reason") if isinstance(first, dict) else None
    return (
        reason if isinstance(reason, str) else "",
        message if isinstance(message, str) else "",
    )


def _snake(reason: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", reason[:60]).upper() or "REJECTED"


def api_url(options: Mapping[str, Any]) -> str:
    return url_option(options, "apiUrl", _BAD_URL, DEFAULT_API_URL)


def api_for(
    client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
) -> YouTubeApi:
    token = header_token(credentials)
    if token is None:
        raise AuthExpiredError("The YouTube connection has no access token; reconnect it")
    return YouTubeApi(client, api_url(options), token)
