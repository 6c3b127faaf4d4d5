"""X's answers mapped onto Herald's error taxonomy (see the connector's docstring).

X answers errors as problem+json, `{"title", "detail", "type", "status"}`, with an `errors` list
naming the parameters for an invalid request; a 429 may carry the older
`{"errors": [{"code": 88, "message": ...}]}`. The fields are parsed, never the raw body searched."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.net.http_client import HttpResponse
from herald.platforms._http import bounded, redact, requested_wait, retry_after_seconds
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)

# Publora's codes for a reply or quote X refuses (publora-latest §5.2): both final.
REPLY_NOT_AUTHORIZED = "X_REPLY_NOT_AUTHORIZED"
TARGET_REJECTED = "X_TARGET_REJECTED"
DUPLICATE_CONTENT = "DUPLICATE_CONTENT"
_TARGET_PARAMETERS = frozenset({"reply.in_reply_to_tweet_id", "quote_tweet_id"})
# X's problem types that a new token fixes (the token lacks a scope, or is not a user token).
_TOKEN_TYPES = frozenset(
    {
        "https://api.x.com/2/problems/unsupported-authentication",
        "https://api.x.com/2/problems/oauth1-permissions",
    }
)
# Refusals that will not change on a re-send: bad parameters, a missing resource, too large.
_REFUSED = frozenset({400, 404, 405, 409, 410, 413, 415, 422})


@dataclass(frozen=True)
class Problem:
    """What an X error answer says, as far as Herald acts on it."""

    status: int
    type: str
    message: str  # detail, or the first error's message; redacted and bounded
    parameters: frozenset[str]  # the request fields X names as invalid

    @property
    def duplicate(self) -> bool:
        # X's 403 for a tweet whose text equals a recent one of the account's.
        return self.status == 403 and "duplicate content" in self.message.lower()

    @property
    def target_gone(self) -> bool:
        """X's 403 for a reply parent or quoted tweet that is deleted or not visible."""
        return self.status == 403 and "deleted or not visible" in self.message.lower()

    @property
    def reply_refused(self) -> bool:
        """X's 403 for a reply or quote the target's author did not invite (self-serve tiers)."""
        text = self.message.lower()
        return self.status == 403 and ("reply" in text or "quot" in text) and "not allowed" in text


def problem_of(response: HttpResponse, token: str) -> Problem:
    try:
        body = response.json()
    except ValueError:
        body = None
    kind, message = "", ""
    parameters: set[str] = set()
    if isinstance(body, Mapping):
        kind = _text(body.get("type"))
        message = _text(body.get("detail")) or _text(body.get("title"))
        errors = body.get("errors")
        if isinstance(errors, list):
            for error in errors:
                if not isinstance(error, Mapping):
                    continue
                params = error.get("parameters")
                if isinstance(params, Mapping):
                    parameters.update(name for name in params if isinstance(name, str))
                detail = _text(error.get("message")) or _text(error.get("detail"))
                if detail and detail not in message:
                    message = f"{message}: {detail}" if message else detail
    if not message:
        message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    return Problem(
        response.status_code, kind, bounded(redact(message, token)), frozenset(parameters)
    )


def error_for(response: HttpResponse, token: str, subject: str, *, may_exist: bool) -> PublishError:
    """The error for a non-success answer about `subject` ("the tweet", "the media file").

    `may_exist`: the request could have created a tweet (POST /2/tweets), so a 5xx or anything
    unexpected leaves its outcome unknown instead of retryable. A duplicate-content 403 is
    returned as RejectedError with DUPLICATE_CONTENT; the connector checks first whether the
    duplicate is this very tweet, sent by an earlier attempt."""
    problem = problem_of(response, token)
    status = problem.status
    if status == 429:
        return RetryableError.rate_limit(
            f"X's rate limit was reached: {problem.message}", rate_limit_wait(response), status
        )
    if status == 401 or problem.type in _TOKEN_TYPES:
        return AuthExpiredError(
            f"X refused the access token: {problem.message}", http_status=status
        )
    if problem.duplicate:
        return RejectedError(
            f"X refused {subject} as a duplicate of a recent tweet: {problem.message}",
            code=DUPLICATE_CONTENT,
            http_status=status,
        )
    if problem.reply_refused:
        return RejectedError(
            f"X refused {subject}: {problem.message}", code=REPLY_NOT_AUTHORIZED, http_status=status
        )
    if problem.target_gone or (
        status in (400, 403, 404) and problem.parameters & _TARGET_PARAMETERS
    ):
        return RejectedError(
            f"X rejected the tweet to reply to or quote: {problem.message}",
            code=TARGET_REJECTED,
            http_status=status,
        )
    if status == 403 or status in _REFUSED:
        return RejectedError(f"X rejected {subject}: {problem.message}", http_status=status)
    if 300 <= status < 400:
        return RejectedError(
            f"X's API redirects (HTTP {status}): the connection's apiUrl is not where the API "
            "answers",
            http_status=status,
        )
    if may_exist:
        return OutcomeUnknownError(
            f"X answered HTTP {status} ({problem.message}); the tweet may exist", http_status=status
        )
    return RetryableError(
        f"X answered HTTP {status}: {problem.message}",
        retry_after=requested_wait(response.headers),
        http_status=status,
    )


def rate_limit_wait(response: HttpResponse) -> float | None:
    """Seconds until X lifts a 429: the 24-hour cap's reset when that cap is spent (user or
    app), else the 15-minute window's `x-rate-limit-reset` (epoch seconds)."""
    headers = response.headers
    for scope in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if headers.get(f"{scope}-remaining", "").strip() == "0":
            reset = headers.get(f"{scope}-reset")
            if reset is not None:
                wait = retry_after_seconds({"x-rate-limit-reset": reset})
                if wait is not None:
                    return wait
    return retry_after_seconds(headers)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
