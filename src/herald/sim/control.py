"""What every simulator shares: the control endpoints under /_sim/ (config, script, stats,
reset) and serving on a port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from herald.sim.faults import FaultInjector, error_response, script_entries


def base_url(request: Request) -> str:
    """The simulator's own address as the client reached it, for the URLs it hands out.
    root_path carries the mount prefix, so they stay right under /sim/sandbox and the like."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{root}"


ConfigT = TypeVar("ConfigT")
Endpoint = Callable[[Request], Awaitable[Response]]


class ControlledSim(Protocol[ConfigT]):
    config: ConfigT
    injector: FaultInjector

    def configure(self, changes: object) -> None: ...

    def stats_wire(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


def control_routes(
    sim_of: Callable[[Request], ControlledSim[ConfigT]],
    config_wire: Callable[[ConfigT], dict[str, Any]],
    script: Endpoint | None = None,
) -> list[Route]:
    """The shared routes of the simulator that `sim_of` finds in a request:

    GET|POST /_sim/config  read | merge the config (422 invalid_config); both answer it whole
    POST /_sim/script      {"faults": [name | "ok", ...]} appended (422 invalid_script);
                           answers {"script": [...]}, unless `script` handles it instead
    GET  /_sim/stats       the simulator's stats_wire()
    POST /_sim/reset       sim.reset(); answers {"reset": true}
    """

    async def sim_config(request: Request) -> Response:
        sim = sim_of(request)
        if request.method == "POST":
            try:
                sim.configure(await request.json())
            except ValueError as exc:  # bad JSON, or a ConfigError
                return error_response(422, "invalid_config", str(exc))
        return JSONResponse(config_wire(sim.config))

    async def sim_script(request: Request) -> Response:
        sim = sim_of(request)
        try:
            sim.injector.extend(script_entries(await request.json()))
        except ValueError as exc:  # bad JSON, or a ConfigError
            return error_response(422, "invalid_script", str(exc))
        return JSONResponse({"script": list(sim.injector.script)})

    async def sim_stats(request: Request) -> Response:
        return JSONResponse(sim_of(request).stats_wire())

    async def sim_reset(request: Request) -> Response:
        sim_of(request).reset()
        return JSONResponse({"reset": True})

    return [
        Route("/_sim/config", sim_config, methods=["GET", "POST"]),
        Route("/_sim/script", script or sim_script, methods=["POST"]),
        Route("/_sim/stats", sim_stats, methods=["GET"]),
        Route("/_sim/reset", sim_reset, methods=["POST"]),
    ]


SIM_BACKLOG = 16_384


def serve(app: ASGIApp, host: str, port: int) -> None:
    """Run a simulator until interrupted (`herald sim`)."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        # Held ("timeout"/"lost_response") requests must not stall Ctrl-C for hang_s.
        timeout_graceful_shutdown=1,
        # A burst opens thousands of connections at once; with uvicorn's 2,048 the accept
        # queue overflowed at 4,096 and clients saw resets a real platform would not send.
        # The kernel caps this at net.core.somaxconn.
        backlog=SIM_BACKLOG,
    )
