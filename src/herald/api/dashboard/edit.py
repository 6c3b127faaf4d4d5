"""Editing a draft or scheduled post in the composer. The form is turned into update-post's
body and goes through the API's own parser and services (read_retarget, plan_retarget,
update_post), so the page refuses what the API refuses, with the seed's messages.

Files already attached stay attached and are listed; files are added through the composer's
upload flow when the post is made, or through the API's attach-media."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import ImmutableMultiDict

from herald.api.dashboard.compose import picker, requested_time
from herald.api.dashboard.compose_fields import comment_body, platform_settings
from herald.api.dashboard.render import local_time, post_not_found_page, render
from herald.api.dashboard.viewer import CurrentViewer, Viewer, read_form
from herald.api.deps import Context
from herald.api.schemas.post_request import parse_update_post
from herald.domain.first_comment import from_stored
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import utc_now
from herald.errors import AppError
from herald.services import post as posts
from herald.services.post_update import plan_retarget, read_retarget, update_post

router = APIRouter(include_in_schema=False)


def _change_body(
    fields: ImmutableMultiDict[str, str], viewer: Viewer, now: datetime
) -> dict[str, Any]:
    """update-post's body: the text, the connections in the order shown, the first comment
    (blank removes it), the settings when typed, and the status and time asked for."""
    status, scheduled_at = requested_time(fields, viewer, now)
    body: dict[str, Any] = {
        "content": fields.get("content", ""),
        "platforms": fields.getlist("platform"),
        "firstComment": comment_body(fields),
        "status": status,
    }
    if scheduled_at is not None:
        body["scheduledTime"] = scheduled_at.astimezone(UTC).isoformat()
    settings = platform_settings(fields)
    if settings is not None:
        body["platformSettings"] = settings
    return body


async def _form(context: Context, viewer: Viewer, post_id: str, **values: Any) -> HTMLResponse:
    async with context.transaction(write=False) as session:
        details = await posts.get_post(session, viewer.account_id, post_id)
    group = details.group
    comment = from_stored(group.first_comment)
    filled: dict[str, Any] = {
        "content": group.content,
        "chosen": [platform_id(Platform(t.platform), t.external_account_id) for t in group.targets],
        "first_comment": comment.text if comment else "",
        "first_comment_platforms": " ".join(comment.platforms) if comment else "",
        "settings": _settings_text(group.platform_settings),
        "when": local_time(group.scheduled_at, viewer.time_zone, "%Y-%m-%dT%H:%M"),
    }
    filled.update(values)
    return render(
        "compose.html",
        viewer,
        title="Edit post",
        editing=group.id,
        media=details.media,
        connections=await picker(context, viewer),
        **filled,
    )


def _settings_text(settings: dict[str, Any] | None) -> str:
    return json.dumps(settings, indent=1) if settings else ""


@router.get("/posts/{post_id}/edit")
async def edit_page(post_id: str, context: Context, viewer: CurrentViewer) -> HTMLResponse:
    try:
        return await _form(context, viewer, post_id)
    except AppError as exc:
        return post_not_found_page(viewer, exc)


@router.post("/posts/{post_id}/edit")
async def save_edit(
    post_id: str, request: Request, context: Context, viewer: CurrentViewer
) -> Response:
    fields = await read_form(request, viewer)
    now = utc_now()  # "publish now" asks for this instant, which must not be in the past
    try:
        change = parse_update_post(_change_body(fields, viewer, now))
        async with context.transaction(write=False) as session:
            retarget = await read_retarget(session, viewer.account_id, post_id, change)
        if retarget is not None:
            retarget = await asyncio.to_thread(plan_retarget, retarget)
        async with context.transaction() as session:
            await update_post(
                session,
                viewer.account_id,
                post_id,
                change,
                now,
                retarget=retarget,
                store=context.media_store,
            )
    except AppError as exc:
        try:
            return await _form(
                context,
                viewer,
                post_id,
                status=exc.status_code,
                notice=exc.message,
                notice_kind="error",
                content=fields.get("content", ""),
                chosen=fields.getlist("platform"),
                first_comment=fields.get("firstComment", ""),
                first_comment_platforms=fields.get("firstCommentPlatforms", ""),
                settings=fields.get("platformSettings", ""),
                when=fields.get("when", ""),
            )
        except AppError as missing:  # another tenant's post, or gone meanwhile
            return post_not_found_page(viewer, missing)
    context.wake_publisher()
    return RedirectResponse(f"/posts/{post_id}", status_code=303)
