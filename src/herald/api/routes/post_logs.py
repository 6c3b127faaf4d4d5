"""GET /post-logs/:postGroupId: every platform call Herald made for a post group."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from herald.api.deps import Context, CurrentPrincipal
from herald.api.routes._docs import errors
from herald.api.schemas.base import wire
from herald.api.schemas.post_logs import PostLogsResponse, post_log
from herald.services.post_logs import post_logs

router = APIRouter(tags=["posts"])


@router.get(
    "/post-logs/{post_group_id}",
    responses={200: {"model": PostLogsResponse}, **errors(404)},
)
async def get_post_logs(
    post_group_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction(write=False) as session:
        entries = await post_logs(session, principal.account_id, post_group_id)
    return wire(PostLogsResponse(logs=[post_log(entry) for entry in entries]))
