"""The composer: text with a live per-platform preview (POST /compose/preview, the engine's
own planning), a connection picker, files through the pre-signed upload flow, a first comment
and platformSettings (compose_fields), and schedule, save as draft or publish now — every step
through create-post's and update-post's services. Editing a post is edit.py.

Without script the form posts text only. With script, a post that has files is stored as a
draft first, each file gets an upload URL (get-upload-url's service) and is PUT there with
its progress shown, and then the post is scheduled (`/posts/{id}/finish`)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import ImmutableMultiDict

from herald.api.dashboard.compose_fields import first_comment, platform_settings
from herald.api.dashboard.render import render
from herald.api.dashboard.viewer import CurrentViewer, Viewer, read_form
from herald.api.deps import Context
from herald.api.routes.post_preview import preview_response
from herald.api.schemas.media import parse_upload_request
from herald.domain.platform import Platform, platform_id
from herald.domain.text import CONTENT_MAX_CHARACTERS
from herald.domain.timestamps import utc_now
from herald.errors import AppError, ValidationError
from herald.services import media as media_service
from herald.services import post as posts
from herald.services.connection import list_connections
from herald.services.post_preview import MAX_PREVIEW_CONNECTIONS, plan_previews, preview_targets
from herald.services.post_update import PostChange, update_post

router = APIRouter(include_in_schema=False)
ACTIONS = ("schedule", "draft", "now")


def _wants_json(request: Request) -> bool:
    return request.headers.get("accept", "").startswith("application/json")


def requested_time(
    fields: ImmutableMultiDict[str, str], viewer: Viewer, now: datetime
) -> tuple[str | None, datetime | None]:
    """The status and time the form asks for; `when` is a local time in the account's zone."""
    action = fields.get("action", "schedule")
    if action == "draft":
        return "draft", None
    if action == "now":
        return "scheduled", now
    try:
        local = datetime.fromisoformat(fields.get("when", ""))
    except ValueError as exc:
        raise ValidationError(
            "Choose a date and time to schedule it for", code="INVALID_TIME"
        ) from exc
    return "scheduled", local.replace(tzinfo=viewer.zone)


async def picker(context: Context, viewer: Viewer) -> list[dict[str, str]]:
    async with context.transaction(write=False) as session:
        found = await list_connections(session, viewer.account_id)
    return [
        {
            "id": platform_id(Platform(c.platform), c.external_id),
            "label": f"{c.platform}: {c.display_name or c.username}",
            "avatar": c.profile_image_url if c.profile_image_url.startswith("https://") else "",
        }
        for c in found
    ]


@router.get("/compose")
async def compose_page(context: Context, viewer: CurrentViewer) -> HTMLResponse:
    return render(
        "compose.html", viewer, title="Compose", connections=await picker(context, viewer)
    )


@router.post("/compose/preview")
async def compose_preview(
    request: Request, context: Context, viewer: CurrentViewer
) -> JSONResponse:
    fields = await read_form(request, viewer)
    content, chosen = fields.get("content", "")[:CONTENT_MAX_CHARACTERS], fields.getlist("platform")
    if not chosen:
        return JSONResponse({"previews": []})
    try:
        async with context.transaction(write=False) as session:
            targets = await preview_targets(
                session, viewer.account_id, chosen[:MAX_PREVIEW_CONNECTIONS]
            )
    except AppError as exc:
        return JSONResponse({"message": exc.message}, status_code=exc.status_code)
    previews = await asyncio.to_thread(plan_previews, content, targets)
    return JSONResponse(preview_response(previews).model_dump(mode="json", by_alias=True))


@router.post("/compose")
async def compose(request: Request, context: Context, viewer: CurrentViewer) -> Response:
    fields = await read_form(request, viewer)
    now = utc_now()
    try:
        status, when = requested_time(fields, viewer, now)
        new = posts.NewPost(
            content=fields.get("content", ""),
            platform_ids=fields.getlist("platform"),
            scheduled_at=when,
            status=status,
            alt_texts=[t for t in fields.getlist("alt") if t],
            first_comment=first_comment(fields),
            platform_settings=platform_settings(fields) or {},
        )
        async with context.transaction(write=False) as session:
            checked = await posts.check_post(
                session, viewer.account_id, new, now, strict=context.settings.strict_scheduled_time
            )
        planned = await asyncio.to_thread(posts.plan_post, checked)
        async with context.transaction() as session:
            group = await posts.store_post(session, planned, now)
    except AppError as exc:
        if _wants_json(request):
            return JSONResponse({"message": exc.message}, status_code=exc.status_code)
        return render(
            "compose.html",
            viewer,
            title="Compose",
            status=exc.status_code,
            notice=exc.message,
            notice_kind="error",
            connections=await picker(context, viewer),
            content=fields.get("content", ""),
            chosen=fields.getlist("platform"),
            first_comment=fields.get("firstComment", ""),
            first_comment_platforms=fields.get("firstCommentPlatforms", ""),
            settings=fields.get("platformSettings", ""),
        )
    context.wake_publisher()
    if _wants_json(request):
        return JSONResponse({"postId": group.id})
    return RedirectResponse(f"/posts/{group.id}", status_code=303)


@router.post("/posts/{post_id}/upload-url")
async def upload_url(
    post_id: str, request: Request, context: Context, viewer: CurrentViewer
) -> JSONResponse:
    fields = await read_form(request, viewer)
    body = {
        "postGroupId": post_id,
        "fileName": fields.get("fileName"),
        "contentType": fields.get("contentType"),
    }
    try:
        upload = parse_upload_request({k: v for k, v in body.items() if v})
        async with context.transaction() as session:
            _, ticket = await media_service.request_upload(
                session, context.media_store, viewer.account_id, upload, utc_now()
            )
    except AppError as exc:
        return JSONResponse({"message": exc.message}, status_code=exc.status_code)
    return JSONResponse({"uploadUrl": ticket.upload_url, "putType": upload.put_type})


@router.post("/posts/{post_id}/finish")
async def finish(
    post_id: str, request: Request, context: Context, viewer: CurrentViewer
) -> JSONResponse:
    """The last step of a post with files: schedule it (or publish it now) once they are up."""
    fields = await read_form(request, viewer)
    now = utc_now()
    try:
        status, when = requested_time(fields, viewer, now)
        if status == "draft":
            return JSONResponse({"postId": post_id})
        async with context.transaction() as session:
            await update_post(
                session,
                viewer.account_id,
                post_id,
                PostChange(status=status, scheduled_at=when),
                now,
            )
    except AppError as exc:
        return JSONResponse({"message": exc.message}, status_code=exc.status_code)
    context.wake_publisher()
    return JSONResponse({"postId": post_id})
