"""Expected failures as AppError subclasses, rendered as {"error", "message", "code"}."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A failure the client caused or can act on; `message` is safe to show, `code` is stable."""

    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "message": self.message, "code": self.code, **self.extra}


class ValidationError(AppError):
    status_code = 400
    code = "VALIDATION_ERROR"


class FieldTooLongError(ValidationError):
    """A free-text field over its documented maximum, in characters (code points)."""

    code = "FIELD_TOO_LONG"

    def __init__(self, field: str, limit: int, message: str | None = None) -> None:
        message = message or f"{field} must be at most {limit} characters"
        super().__init__(message, field=field, limit=limit)


def check_length(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise FieldTooLongError(field, limit)


class AuthenticationError(AppError):
    status_code = 401
    code = "INVALID_API_KEY"


class ForbiddenError(AppError):
    status_code = 403
    code = "FORBIDDEN"


class NotFoundError(AppError):
    status_code = 404
    code = "NOT_FOUND"


class ConflictError(AppError):
    status_code = 409
    code = "CONFLICT"


class PayloadTooLargeError(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class RateLimitedError(AppError):
    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Rate limit exceeded", retryAfter=retry_after, success=False)
        self.retry_after = retry_after


class UpstreamError(AppError):
    """A platform Herald had to ask could not be reached or answered nonsense."""

    status_code = 502
    code = "PLATFORM_UNREACHABLE"
