"""What every simulated Mastodon API call shares: latency, the bearer token, rate-limit headers
and Mastodon's error shape `{"error": "..."}`."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.mastodon_config import MastodonAccount
from herald.sim.mastodon_state import MastodonSim

INVALID_TOKEN = "The access token is invalid"  # noqa: S105 (an error text, not a secret)
NOT_FOUND = "Record not found"
TOO_MANY_REQUESTS = "Too many requests"
_CHALLENGE = (
    f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{INVALID_TOKEN}"'
)


class ApiError(Exception):
    """A Mastodon error answer; raised anywhere in a handler, rendered by `api_error`."""

    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.headers = headers or {}


def sim_of(request: Request) -> MastodonSim:
    sim: MastodonSim = request.app.state.mastodon
    return sim


async def authenticate(request: Request) -> MastodonAccount:
    """`enter` for endpoints that need a user token."""
    account = await enter(request, required=True)
    if account is None:  # enter() raised 401 already; this keeps the type exact
        raise ApiError(401, INVALID_TOKEN, {"WWW-Authenticate": _CHALLENGE})
    return account


async def enter(request: Request, *, required: bool = False) -> MastodonAccount | None:
    """Latency, then the token, then the caller's rate window. Raises ApiError to stop there.

    As Doorkeeper does, a token that is present but unknown is refused even where none is
    needed; public reads without a token are not counted (Mastodon counts those per IP)."""
    sim = sim_of(request)
    await asyncio.sleep(sim.injector.latency_s(sim.config.common))
    account = _bearer(request, sim)
    if account is None:
        if required or "authorization" in request.headers:
            raise ApiError(401, INVALID_TOKEN, {"WWW-Authenticate": _CHALLENGE})
        return None
    counted = sim.count_request(account)
    if counted is not None:
        limit, remaining, reset = counted
        request.state.rate_headers = rate_headers(sim, limit, max(0, remaining), reset)
        if remaining < 0:
            sim.stats.rate_limited += 1
            raise ApiError(429, TOO_MANY_REQUESTS)
    return account


def _bearer(request: Request, sim: MastodonSim) -> MastodonAccount | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return None
    for token, account in sim.by_token.items():
        if secrets.compare_digest(given.encode(), token.encode()):
            return account
    return None


def rate_headers(sim: MastodonSim, limit: int, remaining: int, reset: float) -> dict[str, str]:
    if sim.config.reset_format == "epoch":
        reset_text = str(math.ceil(reset))
    else:  # Mastodon sends Time#iso8601(6): microseconds and a Z
        reset_text = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": reset_text,
    }


def fault_rate_limit(request: Request) -> ApiError:
    """The 429 of a scripted `rate_limit` fault: the window resets in `retry_after_s`. Mastodon
    sends no Retry-After; clients must read X-RateLimit-Reset."""
    sim = sim_of(request)
    sim.stats.rate_limited += 1
    limit = sim.config.rate_limit or 300
    reset = time.time() + sim.config.common.retry_after_s
    request.state.rate_headers = rate_headers(sim, limit, 0, reset)
    return ApiError(429, TOO_MANY_REQUESTS)


def respond(request: Request, payload: Any, status: int = 200) -> Response:
    headers: dict[str, str] = getattr(request.state, "rate_headers", {})
    return JSONResponse(payload, status_code=status, headers=headers)


async def api_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ApiError):  # registered for ApiError only
        raise exc
    headers = {**getattr(request.state, "rate_headers", {}), **exc.headers}
    return JSONResponse({"error": exc.error}, status_code=exc.status, headers=headers)
