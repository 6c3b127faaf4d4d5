"""What every simulated LinkedIn call shares: latency, the bearer token, the version headers of
the versioned /rest API, and LinkedIn's error body."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.linkedin.state import Grant, LinkedInSim


class LinkedInError(Exception):
    """LinkedIn's error answer: {"status", "serviceErrorCode"?, "code"?, "message"}."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        service_code: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        body: dict[str, Any] = {"status": status, "message": message}
        if service_code is not None:
            body["serviceErrorCode"] = service_code
        if code is not None:
            body["code"] = code
        self.status = status
        self.body = {**body, **(extra or {})}
        self.headers = headers or {}


def sim_of(request: Request) -> LinkedInSim:
    sim: LinkedInSim = request.app.state.linkedin
    return sim


async def enter(request: Request, *scopes: str, versioned: bool = True) -> Grant:
    """Latency, the token (401), the version headers on /rest (400, 426), the scopes (403)."""
    sim = sim_of(request)
    await asyncio.sleep(sim.injector.latency_s(sim.config.common))
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    grant = sim.grant_for(given) if scheme.lower() == "bearer" and given else None
    if grant is None:
        # [docs] 401 with serviceErrorCode 65600 for an invalid or expired token
        raise LinkedInError(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
    if versioned:
        check_version(request)
    if not set(scopes) <= set(grant.scope):
        raise LinkedInError(
            403,
            f"Not enough permissions to access: {request.method} {request.url.path}",
            "ACCESS_DENIED",
            100,
        )
    return grant


def check_version(request: Request) -> None:
    """[docs] versioned APIs need LinkedIn-Version: YYYYMM; [issues] an inactive one is 426
    NONEXISTENT_VERSION "Requested version 20250401 is not active" (the day appended)."""
    sim = sim_of(request)
    version = request.headers.get("linkedin-version", "")
    if not version:
        raise LinkedInError(
            400,
            "A version must be present. Please specify a version by "
            "adding the LinkedIn-Version header.",
            "VERSION_MISSING",
        )
    day = version if len(version) == 8 else version + "01"
    month = version[:6]
    if (
        not version.isdigit()
        or len(version) not in (6, 8)
        or not sim.config.oldest_version <= int(month) <= sim.config.newest_version
    ):
        sim.stats["version_refusals"] += 1
        raise LinkedInError(426, f"Requested version {day} is not active", "NONEXISTENT_VERSION")
    if (
        request.method in ("POST", "PUT", "DELETE")
        and request.headers.get("x-restli-protocol-version") != "2.0.0"
    ):
        # [chosen] Rest.li 1.0 parses URNs in paths and bodies differently; refuse it here
        raise LinkedInError(
            400, "X-Restli-Protocol-Version 2.0.0 is required", "INVALID_PROTOCOL_VERSION"
        )


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise LinkedInError(400, "Request body is not a JSON object", "MALFORMED_REQUEST")
    sim_of(request).requests.append({"path": request.url.path, "body": body})
    del sim_of(request).requests[:-1000]
    return body


async def linkedin_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, LinkedInError):
        raise exc
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


def created(location_id: str, payload: Any = None) -> Response:
    """201 with the new entity's id in x-restli-id (LinkedIn's way), an empty body."""
    headers = {"x-restli-id": location_id, "x-linkedin-id": location_id}
    if payload is None:
        return Response(status_code=201, headers=headers)
    return JSONResponse(payload, status_code=201, headers=headers)
