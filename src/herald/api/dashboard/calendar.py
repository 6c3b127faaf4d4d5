"""The calendar: a month, a week or a list of posts in the account's time zone, coloured by
state, filtered by connection and state; dragging a post to another day reschedules it through
update-post's own service (`/posts/{id}/move`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from herald.api.dashboard.render import render
from herald.api.dashboard.viewer import CurrentViewer, read_form
from herald.api.deps import Context
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import utc_now
from herald.errors import AppError
from herald.services.connection import list_connections
from herald.services.post import current_status, find_post, target_status
from herald.services.post_list import calendar_range
from herald.services.post_update import PostChange, update_post

router = APIRouter(include_in_schema=False)
VIEWS = ("month", "week", "list")
STATES = (
    "draft",
    "scheduled",
    "pending",
    "processing",
    "published",
    "failed",
    "partially_published",
)


@dataclass(frozen=True)
class Shown:
    """A post as the calendar shows it."""

    id: str
    time: str
    text: str
    status: str
    platforms: list[str]


def _range(view: str, anchor: date) -> tuple[date, date]:
    """[first, last] days shown: whole weeks, Monday first, for a month."""
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=6)
    first = anchor.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    if view == "list":
        return first, following - timedelta(days=1)
    start = first - timedelta(days=first.weekday())
    end = following - timedelta(days=1)
    return start, end + timedelta(days=6 - end.weekday())


def _utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _anchor(text: str | None, today: date) -> date:
    try:
        return date.fromisoformat(text) if text else today
    except ValueError:
        return today


def _steps(view: str, anchor: date) -> tuple[date, date]:
    if view == "week":
        return anchor - timedelta(days=7), anchor + timedelta(days=7)
    first = anchor.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1), (first + timedelta(days=32)).replace(day=1)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/calendar", status_code=303)


@router.get("/calendar")
async def calendar(request: Request, context: Context, viewer: CurrentViewer) -> HTMLResponse:
    query = request.query_params
    view = query.get("view") or "month"
    if view not in VIEWS:
        view = "month"
    zone = viewer.zone
    today = utc_now().astimezone(zone).date()
    anchor = _anchor(query.get("day"), today)
    first, last = _range(view, anchor)
    state, connection = query.get("state", ""), query.get("connection", "")
    async with context.transaction(write=False) as session:
        found = await calendar_range(
            session, viewer.account_id, _utc(first, zone), _utc(last + timedelta(days=1), zone)
        )
        connections = await list_connections(session, viewer.account_id)
    days: dict[date, list[Shown]] = {
        first + timedelta(days=n): [] for n in range((last - first).days + 1)
    }
    for details in found.posts:
        group = details.group
        if group.scheduled_at is None:  # undated drafts are never in a range
            continue
        ids = [platform_id(Platform(t.platform), t.external_account_id) for t in group.targets]
        status = current_status(group).value
        if (state and status != state) or (connection and connection not in ids):
            continue
        local = group.scheduled_at.astimezone(zone)
        days.setdefault(local.date(), []).append(
            Shown(
                group.id,
                local.strftime("%H:%M"),
                group.content[:80],
                status,
                [f"{t.platform}: {target_status(t).value}" for t in group.targets],
            )
        )
    before, after = _steps(view, anchor)
    return render(
        "calendar.html",
        viewer,
        title="Calendar",
        view=view,
        days=days,
        anchor=anchor,
        today=today,
        before=before,
        after=after,
        state=state,
        connection=connection,
        states=STATES,
        views=VIEWS,
        connections=[
            (
                platform_id(Platform(c.platform), c.external_id),
                f"{c.platform}: {c.display_name or c.username}",
            )
            for c in connections
        ],
    )


@router.post("/posts/{post_id}/move")
async def move_post(
    post_id: str, request: Request, context: Context, viewer: CurrentViewer
) -> JSONResponse:
    """Keep the post's local time of day, on the day it was dropped on."""
    fields = await read_form(request, viewer)
    try:
        day = date.fromisoformat(fields.get("day", ""))
    except ValueError:
        return JSONResponse({"message": "Drop the post on a day."}, status_code=400)
    zone = viewer.zone
    try:
        async with context.transaction() as session:
            group = await find_post(session, viewer.account_id, post_id)
            was = (group.scheduled_at or utc_now()).astimezone(zone)
            moved = datetime.combine(day, was.time(), tzinfo=zone)
            change = PostChange(status=None, scheduled_at=moved)
            await update_post(session, viewer.account_id, post_id, change, utc_now())
    except AppError as exc:
        return JSONResponse({"message": exc.message}, status_code=exc.status_code)
    context.wake_publisher()
    return JSONResponse({"message": f"Moved to {moved.strftime('%Y-%m-%d %H:%M')}."})
