"""Mastodon's answers mapped onto Herald's error taxonomy (see the connector's docstring)."""

from __future__ import annotations

from collections.abc import Mapping

from herald.net.http_client import (
    HttpResponse,
)
from herald.platforms._http import bounded, redact, requested_wait, retry_after_seconds
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)

# Statuses that refuse this request for good: bad parameters, a missing parent, too large.
_REFUSED = frozenset({400, 404, 405, 410, 413, 415, 422})


def error_for(response: HttpResponse, token: str, subject: str, *, may_exist: bool) -> PublishError:
    """The error for a non-success answer about `subject` ("the status", "the media file").

    `may_exist`: the request could have created a status (POST /api/v1/statuses), so a 5xx
    or anything unexpected leaves its outcome unknown instead of retryable."""
    status = response.status_code
    detail = platform_message(response, token)
    if status == 429:
        return RetryableError.rate_limit(
            f"Mastodon's rate limit was reached: {detail}",
            retry_after_seconds(response.headers),
            status,
        )
    if status == 401 or _token_problem(status, detail):
        return AuthExpiredError(f"Mastodon refused the access token: {detail}", http_status=status)
    if status == 403:  # a disabled, suspended or unapproved account
        return RejectedError(f"Mastodon refused {subject}: {detail}", http_status=status)
    if status in _REFUSED:
        return RejectedError(f"Mastodon rejected {subject}: {detail}", http_status=status)
    if 300 <= status < 400:
        location = response.headers.get("location", "elsewhere")
        return RejectedError(
            f"The Mastodon instance redirects to {location}: set the connection's "
            "instanceUrl to the address the instance answers on",
            http_status=status,
        )
    if may_exist:
        return OutcomeUnknownError(
            f"Mastodon answered HTTP {status} ({detail}); the status may exist",
            http_status=status,
        )
    return RetryableError(
        f"Mastodon answered HTTP {status}: {detail}",
        retry_after=requested_wait(response.headers),
        http_status=status,
    )


def _token_problem(status: int, detail: str) -> bool:
    """A refusal that a new token fixes: Doorkeeper's 403 for a token without the scope, and
    Mastodon's 422 for an app-only token that acts for no user."""
    text = detail.lower()
    if status == 403:
        return "scope" in text or "token" in text
    return status == 422 and "requires an authenticated user" in text


def platform_message(response: HttpResponse, token: str) -> str:
    """Mastodon's `error` (and `error_description`), or the HTTP status; never the token."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = ""
    if isinstance(body, Mapping):
        error, description = body.get("error"), body.get("error_description")
        message = error if isinstance(error, str) else ""
        if isinstance(description, str) and description and description != message:
            message = f"{message}: {description}" if message else description
    if not message:
        message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    return bounded(redact(message, token))
