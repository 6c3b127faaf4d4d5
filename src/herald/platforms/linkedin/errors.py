"""LinkedIn's answers mapped onto Herald's error taxonomy (see the connector's docstring).

LinkedIn answers errors as {"status", "serviceErrorCode"?, "code"?, "message"}, and a 422 adds
{"errorDetailType", "errorDetails": {"inputErrors": [{"code", ...}]}}. Fields are parsed, never
the raw body searched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from herald.net.http_client import HttpResponse
from herald.platforms._http import bounded, redact, retry_after_seconds
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)

VERSION_UNSUPPORTED = "LINKEDIN_VERSION_UNSUPPORTED"
VERSION_SETTING = "HERALD_LINKEDIN_VERSION"
_VERSION_CODES = frozenset({"NONEXISTENT_VERSION", "VERSION_MISSING"})
_REFUSED = frozenset({400, 403, 404, 405, 409, 410, 413, 415, 422})
_POST_URN = re.compile(r"urn:li:(?:share|ugcPost):[0-9]{1,30}")
# A 429 without any header: LinkedIn's short-term throttles clear within a minute [recall].
_DEFAULT_WAIT_S = 60.0


@dataclass(frozen=True)
class Answer:
    """What a LinkedIn error answer says, as far as Herald acts on it."""

    status: int
    code: str
    message: str  # redacted and bounded
    input_codes: frozenset[str]

    @property
    def duplicate_of(self) -> str | None:
        """The URN of the post this one duplicates (422 DUPLICATE_POST), if LinkedIn names it."""
        if self.status != 422 or "DUPLICATE_POST" not in self.input_codes:
            return None
        found = _POST_URN.search(self.message)
        return found.group(0) if found else None

    @property
    def daily(self) -> bool:
        """A daily quota (LinkedIn says "1 DAY limit"): it resets at midnight UTC."""
        return self.status == 429 and " DAY " in f" {self.message.upper()} "


def read_answer(response: HttpResponse, token: str) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    code = body.get("code")
    message = body.get("message")
    details = body.get("errorDetails")
    inputs = details.get("inputErrors") if isinstance(details, dict) else None
    input_codes = (
        frozenset(
            str(e["code"])
            for e in inputs or ()
            if isinstance(e, dict) and isinstance(e.get("code"), str)
        )
        if isinstance(inputs, list)
        else frozenset()
    )
    text = message if isinstance(message, str) and message else f"HTTP {response.status_code}"
    return Answer(
        response.status_code,
        code if isinstance(code, str) else "",
        bounded(redact(text, token)),
        input_codes,
    )


def until_midnight_utc(now: datetime | None = None) -> float:
    moment = now or datetime.now(UTC)
    midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), UTC)
    return (midnight - moment).total_seconds()


def error_for(response: HttpResponse, token: str, subject: str, *, may_exist: bool) -> PublishError:
    answer = read_answer(response, token)
    status = answer.status
    said = f"LinkedIn refused {subject}: {answer.message}"
    if answer.code in _VERSION_CODES or status == 426:
        return RejectedError(
            f"LinkedIn no longer supports the API version Herald sent ({answer.message}); the "
            f"operator sets a current one in {VERSION_SETTING} (YYYYMM)",
            code=VERSION_UNSUPPORTED,
            http_status=status,
        )
    if status == 401:
        return AuthExpiredError(f"LinkedIn refused the token: {answer.message}", http_status=401)
    if status == 429:
        wait = (
            until_midnight_utc()
            if answer.daily
            else (retry_after_seconds(response.headers) or _DEFAULT_WAIT_S)
        )
        return RetryableError.rate_limit(f"LinkedIn rate limit: {answer.message}", wait)
    if 300 <= status < 400:
        return RejectedError("LinkedIn answered with a redirect: apiUrl is not LinkedIn's API")
    if status in _REFUSED:
        return RejectedError(said, http_status=status)
    if may_exist:
        return OutcomeUnknownError(f"{said}; the post may exist", http_status=status)
    return RetryableError(said, http_status=status)
