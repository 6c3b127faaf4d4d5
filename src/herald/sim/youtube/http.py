"""Per call: the configured latency, the bearer token, the day's quota and Google's error shape."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.youtube.state import Grant, YouTubeSim

UPLOAD_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",
    }
)
MANAGE_SCOPES = UPLOAD_SCOPES - {"https://www.googleapis.com/auth/youtube.upload"}
QUOTA_MESSAGE = (
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
    'getting-started#quota">quota</a>.'
)
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """Raised by an endpoint; rendered as Google's error body."""

    def __init__(self, status: int, reason: str, message: str, domain: str = "youtube") -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.domain = status, reason, message, domain


def error_body(status: int, reason: str, message: str, domain: str) -> dict[str, Any]:
    """{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}
    [docs: YouTube Data API errors]."""
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": _STATUS.get(status, "FAILED_PRECONDITION"),
        }
    }


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
    headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
    return JSONResponse(
        error_body(exc.status, exc.reason, exc.message, exc.domain),
        status_code=exc.status,
        headers=headers if exc.status == 401 else None,
    )


def sim_of(request: Request) -> YouTubeSim:
    sim: YouTubeSim = request.app.state.youtube
    return sim


async def authorised(request: Request, scopes: frozenset[str] = UPLOAD_SCOPES) -> Grant:
    """Wait the latency, then check the bearer token (401) and its scopes (403)."""
    sim = sim_of(request)
    if sim.config.latency_ms:
        await asyncio.sleep(sim.config.latency_ms / 1000)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = sim.grant_of(token) if scheme.lower() == "bearer" else None
    if grant is None:
        raise ApiError(
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential.",
            "global",
        )
    if not scopes & set(grant.scope.split()):
        raise ApiError(
            403,
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
            "global",
        )
    return grant


def charge(request: Request, units: int, *, upload: bool = False) -> None:
    if not sim_of(request).spend(units, upload=upload):
        raise ApiError(403, "quotaExceeded", QUOTA_MESSAGE, "youtube.quota")
