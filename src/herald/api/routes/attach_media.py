"""attach-media (publora-latest §2.6): one file by URL appended to a post, which becomes a draft."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.idempotency import IdempotencyKey, Once
from herald.api.media_fetching import fetched_media
from herald.api.routes._docs import errors
from herald.api.schemas.attach_media import AttachMediaRequest, parse_attach_media
from herald.api.schemas.base import WireModel, omitted_when_none, request_body_doc, wire
from herald.api.schemas.connection import optional_timestamp
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import utc_now
from herald.models import PostGroup
from herald.services.idempotency import fingerprint
from herald.services.post import current_status
from herald.services.post_update import PostChange, check_attachable, update_post

router = APIRouter(tags=["media"])


class AttachedGroup(WireModel):
    id: str = Field(alias="_id")
    status: str
    content: str
    platforms: list[str]
    scheduled_time: str | None = omitted_when_none("Sent only when the group has a time")


class AttachMediaResponse(WireModel):
    success: bool = True
    message: str = "Post updated successfully"
    scheduled_time: str | None = Field(description="The stored time; a draft keeps it")
    post_group: AttachedGroup


def _response(group: PostGroup) -> AttachMediaResponse:
    scheduled = optional_timestamp(group.scheduled_at)
    return AttachMediaResponse(
        scheduled_time=scheduled,
        post_group=AttachedGroup(
            id=group.id,
            status=current_status(group).value,
            content=group.content,
            platforms=[
                platform_id(Platform(t.platform), t.external_account_id) for t in group.targets
            ],
            scheduled_time=scheduled,
        ),
    )


@router.post(
    "/attach-media/{post_group_id}",
    responses={200: {"model": AttachMediaResponse}, **errors(400, 404, 409, 422, 429)},
    openapi_extra=request_body_doc(AttachMediaRequest),
)
async def attach_media(
    post_group_id: str,
    body: JsonBody,
    context: Context,
    principal: CurrentPrincipal,
    key: IdempotencyKey = None,
) -> Response:
    attachment = parse_attach_media(body)
    # Publora §4: the post, the file id and the cleaned name; a refreshed URL still replays.
    print_ = fingerprint("attach-media", post_group_id, [attachment.file_id, attachment.file_name])
    account_id = principal.account_id
    async with Once(context, account_id, key, print_) as once:
        if once.replayed is not None:
            return once.replayed
        async with context.transaction(write=False) as session:
            await check_attachable(session, account_id, post_group_id)
        urls = [attachment.download_url]
        async with (
            fetched_media(context, account_id, post_group_id, urls, attachment.file_name) as files,
            context.transaction() as session,
        ):
            # The post becomes a draft and keeps its time; it is never scheduled from here.
            outcome = await update_post(
                session,
                account_id,
                post_group_id,
                PostChange(status="draft", scheduled_at=None, announce_demotion=True),
                utc_now(),
                fetched=files,
                store=context.media_store,
            )
            answer = await once.answer(session, wire(_response(outcome.group)))
    return answer
