"""What every simulated X API call shares: latency, the bearer token and its scopes, the rate
window with its `x-rate-limit-*` headers, and X's problem answers."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.x.rate import Window
from herald.sim.x.state import XSim
from herald.sim.x.tokens import AccessToken

# X sends its problems as application/json (seen in client issue threads, e.g.
# PLhery/node-twitter-api-v2#469), though its OpenAPI also lists application/problem+json.
ERROR_TYPE = "application/json"
INVALID_REQUEST = "https://api.x.com/2/problems/invalid-request"
NOT_FOUND = "https://api.x.com/2/problems/resource-not-found"


class ApiError(Exception):
    """An X error answer; raised anywhere in a handler, rendered by `api_error`."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = headers or {}


def blank_problem(status: int, title: str, detail: str | None = None) -> ApiError:
    """X's plain problems, `type` "about:blank", as it answers 401, 403, 429 and 5xx."""
    body = {"title": title, "detail": detail or title, "type": "about:blank", "status": status}
    return ApiError(status, body)


def invalid_request(parameter: str, value: object, message: str) -> ApiError:
    """X's 400: the problem with one `errors` entry naming the parameter and its value."""
    values = value if isinstance(value, list) else [value]
    body = {
        "errors": [{"parameters": {parameter: [str(v) for v in values]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST,
    }
    return ApiError(400, body)


def not_found(resource_type: str, parameter: str, value: str) -> ApiError:
    body = {
        "title": "Not Found Error",
        "detail": f"Could not find {resource_type} with {parameter}: [{value}].",
        "type": NOT_FOUND,
        "resource_type": resource_type,
        "parameter": parameter,
        "value": value,
        "resource_id": value,
    }
    return ApiError(404, body)


def sim_of(request: Request) -> XSim:
    sim: XSim = request.app.state.x
    return sim


async def enter(
    request: Request, endpoint: str, scopes: tuple[str, ...], limit: int | None
) -> AccessToken:
    """Latency, then the bearer token (401), its scopes (403), then the caller's window for
    `endpoint` (429). Raises ApiError to stop there; on success the window's headers go on
    the answer whatever it is."""
    sim = sim_of(request)
    await asyncio.sleep(sim.injector.latency_s(sim.config.common))
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    token = sim.tokens.bearer(given) if scheme.lower() == "bearer" and given else None
    if token is None:
        raise blank_problem(401, "Unauthorized")
    if not set(scopes) <= set(token.grant.scope):
        raise blank_problem(403, "Forbidden")
    if limit is not None:
        window = sim.windows.count((token.grant.user.id, endpoint), limit, sim.config.rate_window_s)
        add_headers(request, window.headers())
        if window.remaining < 0:
            raise too_many(request)
    return token


def add_headers(request: Request, headers: dict[str, str]) -> None:
    held: dict[str, str] = getattr(request.state, "x_headers", {})
    request.state.x_headers = {**held, **headers}


def too_many(request: Request, window: Window | None = None) -> ApiError:
    """The 429, counted; `window` (a scripted fault's) replaces the headers already set."""
    sim_of(request).stats.rate_limited += 1
    if window is not None:
        add_headers(request, window.headers())
    return blank_problem(429, "Too Many Requests")


def respond(request: Request, payload: Any, status: int = 200) -> Response:
    headers: dict[str, str] = getattr(request.state, "x_headers", {})
    return JSONResponse(payload, status_code=status, headers=headers)


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object body, or X's 400 for a body that is not one."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(
            400,
            {
                "errors": [{"message": "Request body is not valid JSON."}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": INVALID_REQUEST,
            },
        )
    return body


async def api_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ApiError):  # registered for ApiError only
        raise exc
    headers = {**getattr(request.state, "x_headers", {}), **exc.headers}
    return JSONResponse(exc.body, status_code=exc.status, headers=headers, media_type=ERROR_TYPE)
