"""Graph's error answers mapped onto Herald's taxonomy, by `code`, `error_subcode` and
`is_transient` [docs: Graph API error handling, Instagram and Threads error codes]:

    190, 102, HTTP 401           AuthExpiredError (the token expired or was revoked)
    4, 17, 32, 613, 80001-80014  RetryableError(rate_limited): the app's, user's or Page's call
                                 budget; waits for X-Business-Use-Case-Usage's
                                 estimated_time_to_regain_access (minutes) when given
    9 / 2207042                  RetryableError(rate_limited): the account's publishing quota
                                 for the rolling day is spent; tried again in an hour
    2207027 (media not ready)    RetryableError after a short wait
    368                          RejectedError: the account is blocked for policy for a while
    10, 200-299                  RejectedError: a permission the app or user lacks
    1, 2, is_transient, 5xx      RetryableError, or OutcomeUnknownError on a creating call
    anything else (100, 2207xxx) RejectedError with Meta's message
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from herald.net.http_client import HttpResponse
from herald.platforms._http import bounded, redact, retry_after_seconds
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)

_RATE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
_AUTH_CODES = frozenset({102, 190})
QUOTA_SUBCODE = 2207042
NOT_READY_SUBCODE = 2207027
QUOTA_WAIT_S = 3600.0
NOT_READY_WAIT_S = 10.0


def error_for(
    response: HttpResponse, token: str, title: str, subject: str, *, may_exist: bool
) -> PublishError:
    error = _error_of(response)
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    message = _message(error, response, token)
    status = response.status_code
    said = f"{title} refused {subject}: {message}"
    if code in _AUTH_CODES or status == 401:
        return AuthExpiredError(f"{title} refused the access token: {message}", http_status=status)
    if code in _RATE_CODES:
        return RetryableError.rate_limit(
            f"{title}'s rate limit was reached: {message}", _usage_wait(response), status
        )
    if subcode == QUOTA_SUBCODE:
        return RetryableError.rate_limit(
            f"{title}'s daily publishing limit is reached: {message}", QUOTA_WAIT_S, status
        )
    if subcode == NOT_READY_SUBCODE:
        return RetryableError(said, retry_after=NOT_READY_WAIT_S, http_status=status)
    if code == 368:
        return RejectedError(said, code="PLATFORM_POLICY_BLOCK", http_status=status)
    if code == 10 or (code is not None and 200 <= code <= 299):
        return RejectedError(said, code="PLATFORM_PERMISSION_DENIED", http_status=status)
    if code in {1, 2} or error.get("is_transient") is True or status >= 500 or not error:
        if may_exist:
            return OutcomeUnknownError(f"{said}; the post may exist", http_status=status)
        return RetryableError(
            said, retry_after=retry_after_seconds(response.headers), http_status=status
        )
    return RejectedError(said, http_status=status)


def _error_of(response: HttpResponse) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _message(error: Mapping[str, Any], response: HttpResponse, token: str) -> str:
    parts = [error.get("message"), error.get("error_user_msg")]
    text = ": ".join(p for p in parts if isinstance(p, str) and p)
    if not text:
        text = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    return bounded(redact(text, token))


def _usage_wait(response: HttpResponse) -> float | None:
    """Minutes until access returns, from the Business Use Case header, else Retry-After."""
    raw = response.headers.get("x-business-use-case-usage")
    if raw:
        try:
            usage = json.loads(raw)
            waits = [
                entry.get("estimated_time_to_regain_access")
                for entries in usage.values()
                for entry in entries
            ]
            minutes = max(w for w in waits if isinstance(w, int | float))
            return float(minutes) * 60
        except (ValueError, AttributeError, TypeError):
            pass
    return retry_after_seconds(response.headers)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
