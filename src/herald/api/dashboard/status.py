"""Status: the engine's health, this account's due and overdue targets, and how late the
engine has published (its own lateness histogram, since the process started)."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from herald.api.dashboard.render import render
from herald.api.dashboard.viewer import CurrentViewer
from herald.api.deps import Context
from herald.api.routes.operations import STALL_AFTER_SECONDS
from herald.domain.timestamps import utc_now
from herald.store.dashboard_counts import target_counts

router = APIRouter(include_in_schema=False)
DUE_SOON = timedelta(hours=1)


@router.get("/status")
async def status_page(context: Context, viewer: CurrentViewer) -> HTMLResponse:
    async with context.transaction(write=False) as session:
        counts = await target_counts(session, viewer.account_id, utc_now(), DUE_SOON)
    engine = context.publisher
    if engine is None:
        health = "not running in this process (a separate worker publishes)"
        buckets: list[tuple[str, int]] = []
        samples = 0
    else:
        idle = time.monotonic() - engine.last_tick
        health = "stalled" if idle > STALL_AFTER_SECONDS else "running"
        histogram = engine.metrics.publish_lateness
        labels = [f"≤ {b:g} s" for b in histogram.buckets] + [f"> {histogram.buckets[-1]:g} s"]
        buckets = list(zip(labels, histogram.counts, strict=True))
        samples = histogram.samples
    return render(
        "status.html",
        viewer,
        title="Status",
        health=health,
        counts=counts,
        buckets=buckets,
        samples=samples,
        most=max([c for _, c in buckets] or [0]) or 1,
    )
