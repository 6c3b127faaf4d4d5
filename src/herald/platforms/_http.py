"""HTTP helpers shared by connectors: the safety split of transport failures, connection fields
(a base URL option, a token for a header), egress refusals, failure names, redaction, bounded
platform messages, Retry-After parsing."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from yarl import URL

from herald.domain.publishing import bounded_delay
from herald.net.egress import EgressDenied
from herald.net.http_client import HttpError, InvalidUrl, NotSent
from herald.platforms.base import OutcomeUnknownError, RejectedError, RetryableError

# A platform's message goes into the post's `error` for its owner to read; an error page or a
# body some other service sent is not a message, so only this much of it is kept.
MAX_PLATFORM_MESSAGE = 300


@contextmanager
def transport_failures(
    platform: str, creates: str, bad_url: str, *, may_exist: bool, unreachable: str | None = None
) -> Iterator[None]:
    """The safety split for one platform call, in one place. A failure before the request's
    first byte was written (NotSent: connect error, connect or pool timeout) is retryable. Any
    later failure of a call that could create `creates` leaves it in doubt; of one that could
    not, it is retryable. An unusable URL is refused (`bad_url` tells the owner what to fix).
    Messages name the failure's kind, never the URL, which may carry a credential."""
    try:
        yield
    except NotSent as exc:
        raise RetryableError(f"Could not reach {unreachable or platform} ({exc.kind})") from None
    except InvalidUrl:
        raise RejectedError(bad_url) from None
    except HttpError as exc:
        if may_exist:
            message = f"No answer from {platform} ({exc.kind}); the {creates} may exist"
            raise OutcomeUnknownError(message) from None
        raise RetryableError(f"No answer from {platform} ({exc.kind})") from None


def url_option(
    options: Mapping[str, Any], field: str, bad_url: str, default: str | None = None
) -> str:
    """The connection's `field`: an http:// or https:// URL with a host and no query or
    fragment, without its trailing slash; `default` when the option is absent or empty (None:
    the option is required). Anything else is RejectedError(`bad_url`): no retry fixes it."""
    url = options.get(field)
    if (url is None or url == "") and default is not None:
        return default
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise RejectedError(bad_url)
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        raise RejectedError(bad_url) from None
    if not parsed.host or parsed.query or parsed.fragment:
        raise RejectedError(bad_url)
    return url.rstrip("/")


def header_token(credentials: Mapping[str, Any], field: str = "accessToken") -> str | None:
    """The credential `field` stripped, or None if it has none that could go in a header
    (printable ASCII, not blank): a stored value that is not one means the connection needs
    connecting again."""
    token = credentials.get(field)
    if not isinstance(token, str) or not token.isascii() or not token.isprintable():
        return None
    return token.strip() or None


@contextmanager
def refused_by_policy() -> Iterator[None]:
    """The egress policy refused the address (the client raised EgressDenied before connecting),
    which no retry will change: a RejectedError with the policy's code."""
    try:
        yield
    except EgressDenied as exc:
        raise RejectedError(str(exc), code=exc.code) from None


def cause(exc: Exception) -> str:
    """How a call failed, for a message: the HTTP failure's kind (ConnectError, ReadTimeout),
    or the exception's type. Never its text, which may quote the URL and its credential."""
    return exc.kind if isinstance(exc, HttpError) else type(exc).__name__


def bounded(text: str, limit: int = MAX_PLATFORM_MESSAGE) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut, on one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every non-empty secret replaced: platform messages are shown to the post's
    owner and logged, and a platform or a proxy may echo a credential back."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def requested_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` alone, for an answer that is not a rate limit. X and
    Mastodon put their window's reset on every answer: on a 503 that is when the window
    starts afresh, not a wait they ask for, and taken as one it held a lookup 15 minutes."""
    value = headers.get("retry-after")
    return None if value is None else retry_after_seconds({"retry-after": value}, now)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from `Retry-After` (RFC 9110: delta-seconds or an HTTP-date) or, failing
    that, a rate-limit reset header (epoch seconds, or an ISO 8601 time as Mastodon sends).

    A platform's value is not trusted: a wait beyond MAX_PLATFORM_DELAY is cut to it, a time
    already past means 0, and a value that does not parse, is negative or is not finite is
    skipped (the next header, or None: the engine's own default)."""
    current = time.time() if now is None else now
    value = headers.get("retry-after")
    if value is not None:
        parsed = _seconds_or_date(value.strip(), current)
        if parsed is not None:
            return parsed
    for name in ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset"):
        reset = headers.get(name)
        if reset is not None:
            parsed = _reset(reset.strip(), current)
            if parsed is not None:
                return parsed
    return None


def _seconds_or_date(value: str, now: float) -> float | None:
    if value.isascii() and value.isdigit():
        # float() reads any number of digits (int() refuses very long ones); at worst it
        # is inf, which the bound cuts like any other wait past it.
        return bounded_delay(float(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return _until(moment, now)


def _reset(value: str, now: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return _until(moment, now)
    if number != number or number < 0:  # NaN, or no time at all
        return None
    # Large numbers are epoch seconds; small ones are "seconds from now" (RateLimit-Reset draft).
    return bounded_delay(max(0.0, number - now) if number > 1_000_000_000 else number)


def _until(moment: datetime, now: float) -> float | None:
    """Seconds from `now` to `moment` (0 once it has passed), bounded."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return bounded_delay(max(0.0, moment.timestamp() - now))
    except OverflowError:  # an offset that pushes the year past 1..9999
        return None
