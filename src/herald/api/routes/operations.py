"""Operations endpoints: /healthz and /metrics (Prometheus text)."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from herald.api.deps import Context
from herald.domain.timestamps import utc_now
from herald.store.publish_queue import PublishQueueStore

router = APIRouter(include_in_schema=False)
STALL_AFTER_SECONDS = 5.0


@router.get("/healthz")
async def healthz(context: Context) -> JSONResponse:
    """Fails when this process runs the engine and its dispatcher has not ticked for 5 s."""
    engine = context.publisher
    if engine is None:
        return JSONResponse({"status": "ok", "engine": "off"})
    idle = time.monotonic() - engine.last_tick
    if idle > STALL_AFTER_SECONDS:
        return JSONResponse({"status": "stalled", "dispatcherIdleSeconds": round(idle, 1)}, 503)
    return JSONResponse({"status": "ok", "engine": "on", "inFlight": engine.in_flight})


@router.get("/metrics")
async def metrics(context: Context) -> PlainTextResponse:
    lines: list[str] = []
    if context.publisher is not None:
        lines += context.publisher.metrics.render()
    async with context.transaction(write=False) as session:
        queue = PublishQueueStore(session)
        counts = await queue.state_counts()
        overdue = await queue.overdue_count(utc_now())
    lines += ["# HELP herald_targets Publish targets by state.", "# TYPE herald_targets gauge"]
    lines += [
        f'herald_targets{{state="{state}"}} {count}' for state, count in sorted(counts.items())
    ]
    lines += [
        "# HELP herald_targets_overdue Scheduled targets whose time has passed.",
        "# TYPE herald_targets_overdue gauge",
        f"herald_targets_overdue {overdue}",
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
