"""What every simulated Graph and Threads call shares: latency, parameters from the query, a
form or a JSON body, the access token, and Graph's error answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.meta.state import MetaSim, Token, TokenKind


class GraphError(Exception):
    """Graph's error shape [docs]: {"error": {"message", "type", "code", "error_subcode"?,
    "is_transient", "error_user_title"?, "error_user_msg"?, "fbtrace_id"}}."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        transient: bool = False,
        kind: str = "OAuthException",
        user_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "message": message,
            "type": kind,
            "code": code,
            "is_transient": transient,
            "fbtrace_id": "AsimTrace0000000000",
        }
        if subcode is not None:
            self.body["error_subcode"] = subcode
        if user_msg is not None:
            self.body["error_user_title"] = message
            self.body["error_user_msg"] = user_msg


def bad_parameter(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(400, 100, f"(#100) {message}", subcode=subcode)


def unknown_node(node: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation.",
        subcode=33,
        kind="GraphMethodException",
    )


def sim_of(request: Request) -> MetaSim:
    sim: MetaSim = request.app.state.meta
    return sim


async def params_of(request: Request) -> dict[str, str]:
    """The call's parameters: the query string, then a form or JSON body over it."""
    params = dict(request.query_params.items())
    if request.method == "POST":
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                raise bad_parameter("Invalid JSON body") from None
            if isinstance(body, dict):
                params |= {k: v if isinstance(v, str) else _json(v) for k, v in body.items()}
        elif kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            params |= {k: v for k, v in form.items() if isinstance(v, str)}
    return params


def _json(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


async def enter(request: Request, params: dict[str, str], *kinds: TokenKind) -> Token:
    """Latency, then the access token (query, body or `Authorization: OAuth|Bearer`): 190 for
    a missing, unknown or expired one, 190 too for a kind this host does not take."""
    sim = sim_of(request)
    await asyncio.sleep(sim.injector.latency_s(sim.config.common))
    value = params.get("access_token", "")
    if not value:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() in {"oauth", "bearer"}:
            value = given.strip()
    if not value:
        raise GraphError(400, 2500, "An active access token must be used to query information.")
    token = sim.live_token(value)
    if token is None:
        raise GraphError(
            400,
            190,
            "Error validating access token: Session has expired or is invalid.",
            subcode=463,
        )
    if token.kind not in kinds:
        raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
    return token


def respond(payload: Any, status: int = 200) -> Response:
    return JSONResponse(payload, status_code=status)


async def graph_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, GraphError):  # registered for GraphError only
        raise exc
    return JSONResponse({"error": exc.body}, status_code=exc.status)
