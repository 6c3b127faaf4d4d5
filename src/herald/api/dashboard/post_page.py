"""A post: each connection's status, link and error (with what to do about it), the attempt
log, publish now, and retry of a failed target.

A failed target is final (domain.post_state), so a retry is a new post with the same text for
that connection, made by create-post's service and published at once; the failed one stays in
the log as it was."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from herald.api.dashboard.render import post_not_found_page, render
from herald.api.dashboard.viewer import CurrentViewer, Viewer, read_form
from herald.api.deps import Context
from herald.domain.platform import Platform, platform_id
from herald.domain.post_log import log_event
from herald.domain.timestamps import utc_now
from herald.errors import AppError
from herald.services import post as posts
from herald.services.post_logs import post_logs
from herald.services.post_update import PostChange, update_post

router = APIRouter(include_in_schema=False)
# What a person can do about each failure code the engine records.
_ADVICE = {
    "NEEDS_REAUTH": "The platform no longer accepts this connection's token: reconnect the "
    "account on the Connections page, then retry.",
    "TOO_LATE": "Herald could not publish it within a day of its time (was the server down?): "
    "retry to publish it now.",
    "CONNECTION_UNAVAILABLE": "The connection was removed or disabled: connect the account "
    "again, then retry.",
    "PUBLISH_RETRIES_EXHAUSTED": "The platform kept failing temporarily: retry when it is "
    "healthy again.",
}
_DEFAULT_ADVICE = "The platform refused the post: change what its message names, then retry."


def advice(code: str | None) -> str:
    return _ADVICE.get(code or "", _DEFAULT_ADVICE)


async def _show(context: Context, viewer: Viewer, post_id: str, **notice: Any) -> HTMLResponse:
    async with context.transaction(write=False) as session:
        details = await posts.get_post(session, viewer.account_id, post_id)
        log = await post_logs(session, viewer.account_id, post_id)
    group = details.group
    targets = [
        {
            "id": t.id,
            "platform_id": platform_id(Platform(t.platform), t.external_account_id),
            "status": posts.target_status(t).value,
            "url": t.external_url,
            "error": t.last_error,
            "advice": advice(t.last_error_code) if t.state == "failed" else None,
        }
        for t in group.targets
    ]
    status = posts.current_status(group).value
    return render(
        "post.html",
        viewer,
        title="Post",
        group=group,
        post_status=status,
        targets=targets,
        media=details.media,
        log=[
            (e.attempt.at, e.target.platform, log_event(e.attempt.outcome), e.attempt.error)
            for e in log
        ],
        editable=status in ("draft", "scheduled"),
        **notice,
    )


async def _page(context: Context, viewer: Viewer, post_id: str, **notice: Any) -> HTMLResponse:
    """The post page, or the API's refusal (another tenant's post is not found) as a page."""
    try:
        return await _show(context, viewer, post_id, **notice)
    except AppError as exc:
        return post_not_found_page(viewer, exc)


@router.get("/posts/{post_id}")
async def post_page(post_id: str, context: Context, viewer: CurrentViewer) -> HTMLResponse:
    return await _page(context, viewer, post_id)


@router.post("/posts/{post_id}/publish-now")
async def publish_now(
    post_id: str, request: Request, context: Context, viewer: CurrentViewer
) -> Response:
    await read_form(request, viewer)
    now = utc_now()  # the same instant as the time and as "now": the time is not in the past
    change = PostChange(status="scheduled", scheduled_at=now)
    try:
        async with context.transaction() as session:
            await update_post(session, viewer.account_id, post_id, change, now)
    except AppError as exc:
        return await _page(context, viewer, post_id, notice=exc.message, notice_kind="error")
    context.wake_publisher()
    return RedirectResponse(f"/posts/{post_id}", status_code=303)


@router.post("/posts/{post_id}/retry")
async def retry(
    post_id: str, request: Request, context: Context, viewer: CurrentViewer
) -> Response:
    fields = await read_form(request, viewer)
    now = utc_now()
    try:
        async with context.transaction(write=False) as session:
            group = await posts.find_post(session, viewer.account_id, post_id)
            failed = [
                t for t in group.targets if t.id == fields.get("target") and t.state == "failed"
            ]
            if not failed:
                return await _page(
                    context,
                    viewer,
                    post_id,
                    notice="Only a failed target can be retried.",
                    notice_kind="error",
                )
            target = failed[0]
            new = posts.NewPost(
                content=group.content,
                platform_ids=[platform_id(Platform(target.platform), target.external_account_id)],
                scheduled_at=now,
                status="scheduled",
                platform_settings=group.platform_settings or {},
            )
            checked = await posts.check_post(session, viewer.account_id, new, now)
        planned = await asyncio.to_thread(posts.plan_post, checked)
        async with context.transaction() as session:
            retried = await posts.store_post(session, planned, now)
    except AppError as exc:
        return await _page(context, viewer, post_id, notice=exc.message, notice_kind="error")
    context.wake_publisher()
    return RedirectResponse(f"/posts/{retried.id}", status_code=303)
