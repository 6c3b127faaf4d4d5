"""What Telegram's answers and transport failures mean, in the connector error taxonomy.

Telegram has no idempotency key and bots cannot read a channel's history, so a send that may have
reached Telegram is never retried blindly: anything after the request left (a timeout, a reset, a
5xx, a success we cannot read) is OutcomeUnknownError. Refusals (`"ok": false` with a 4xx) mean
nothing was sent:

    429                        RetryableError(rate_limited, retry_after = parameters.retry_after)
    401, 404                   AuthExpiredError: the token is wrong or revoked (Telegram answers
                               404 to a token of the wrong shape)
    403 (bot not a member, kicked, blocked), 400 "need administrator rights" / "not enough rights"
                               AuthExpiredError: the connection needs an admin's action in
                               Telegram, then a reconnect; every post to it would fail the same way
    other 4xx                  RejectedError with Telegram's description (a 400 with
                               migrate_to_chat_id is followed by the connector before this)
    5xx                        OutcomeUnknownError on a send
"""

from __future__ import annotations

from herald.net.http_client import (
    HttpError,
    InvalidUrl,
    NotSent,
)
from herald.platforms._http import cause, retry_after_seconds
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)
from herald.platforms.telegram.bot_api import RefusalError, UnreadableAnswerError
from herald.platforms.telegram.multipart import MediaReadError

# Everything call() raises.
CALL_FAILURES = (
    RefusalError,
    UnreadableAnswerError,
    MediaReadError,
    HttpError,
    InvalidUrl,
)
_ADMIN_ACTION = ("need administrator rights", "not enough rights")


def rate_limited(refusal: RefusalError) -> RetryableError:
    return RetryableError.rate_limit(
        f"Telegram is rate limiting the bot: {refusal.description}", refusal.retry_after
    )


def token_refused(refusal: RefusalError) -> AuthExpiredError:
    return AuthExpiredError(
        f"Telegram refused the bot token: {refusal.description}", http_status=refusal.status
    )


def needs_admin_action(refusal: RefusalError) -> bool:
    description = refusal.description
    return refusal.status == 403 or any(phrase in description for phrase in _ADMIN_ACTION)


def send_failure(exc: Exception, chat: str) -> PublishError:
    """The taxonomy error for a send method's failure; `chat` names the chat for the owner."""
    name = cause(exc)
    if isinstance(exc, RefusalError):
        return _send_refusal(exc, chat)
    if isinstance(exc, MediaReadError):
        return RetryableError(f"Could not read a media file for Telegram ({exc}); nothing was sent")
    if isinstance(exc, NotSent):
        return RetryableError(f"Could not reach Telegram ({name})")
    if isinstance(exc, InvalidUrl):
        return RejectedError("The Telegram connection's apiUrl is not a valid URL")
    if isinstance(exc, UnreadableAnswerError):
        return _unreadable(exc)
    return OutcomeUnknownError(f"No answer from Telegram ({name}); the message may have been sent")


def _send_refusal(refusal: RefusalError, chat: str) -> PublishError:
    status, description = refusal.status, refusal.description
    if status == 429:
        return rate_limited(refusal)
    if status in (401, 404):
        return token_refused(refusal)
    if needs_admin_action(refusal):
        return AuthExpiredError(
            f"Telegram refused to let the bot post in {chat}: {description}. Make the bot an "
            "administrator of the channel with the right to post messages (or a member of the "
            "group), then reconnect",
            http_status=status,
        )
    if 400 <= status < 500:
        return RejectedError(f"Telegram rejected the message: {description}", http_status=status)
    return OutcomeUnknownError(
        f"Telegram answered HTTP {status} ({description}); the message may have been sent",
        http_status=status,
    )


def _unreadable(answer: UnreadableAnswerError) -> PublishError:
    status = answer.status
    if status == 429:  # a proxy's rate limit: it kept the request from Telegram
        return RetryableError.rate_limit(
            "Rate limited on the way to Telegram", retry_after_seconds(answer.headers), status
        )
    if 400 <= status < 500:
        return RejectedError(
            f"Telegram's server answered HTTP {status} without a Bot API answer; check the "
            "connection's apiUrl",
            http_status=status,
        )
    return OutcomeUnknownError(
        f"Telegram answered HTTP {status} with an unreadable body; the message may have been sent",
        http_status=status,
    )


def verify_unreachable(exc: Exception) -> PublishError:
    """A failure of a read-only call (getMe, getChat...) that says nothing about the token."""
    if isinstance(exc, InvalidUrl):
        return RejectedError("The Telegram connection's apiUrl is not a valid URL")
    status = getattr(exc, "status", None)
    detail = f"HTTP {status}" if isinstance(status, int) else cause(exc)
    return RetryableError(f"Could not reach Telegram ({detail})", http_status=status)
