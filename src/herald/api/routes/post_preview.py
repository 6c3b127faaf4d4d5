"""POST /preview-post (a Herald extension): what create-post would make of a text on each
connection — its length as the platform counts it, the limit, the thread's parts — without
storing anything. The dashboard's composer shows the same answer as you type."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.routes._docs import errors
from herald.api.schemas.base import WireModel, omitted_when_none, request_body_doc, wire
from herald.domain.text import CONTENT_MAX_CHARACTERS
from herald.errors import ValidationError
from herald.services.post_preview import (
    MAX_PREVIEW_CONNECTIONS,
    Preview,
    plan_previews,
    preview_targets,
)

router = APIRouter(tags=["posts"])


class PreviewPostRequest(WireModel):
    content: str = Field(max_length=CONTENT_MAX_CHARACTERS)
    platforms: list[str] = Field(max_length=MAX_PREVIEW_CONNECTIONS)


class PlatformPreview(WireModel):
    platform_id: str
    platform: str
    length: int = Field(description="The text's length as this platform counts it")
    limit: int = Field(description="The most one post (or thread part) may hold")
    threads: bool = Field(description="Whether longer text becomes a thread here")
    parts: list[str] = Field(description="The posts the text becomes, in order")
    error: str | None = omitted_when_none("Why create-post would refuse this text here")


class PreviewPostResponse(WireModel):
    success: bool = True
    previews: list[PlatformPreview]


def parse_preview(body: dict[str, Any]) -> tuple[str, list[str]]:
    content, platforms = body.get("content"), body.get("platforms")
    if not isinstance(content, str) or len(content) > CONTENT_MAX_CHARACTERS:
        raise ValidationError(
            f"content must be text of at most {CONTENT_MAX_CHARACTERS} characters",
            code="INVALID_CONTENT",
        )
    if (
        not isinstance(platforms, list)
        or not platforms
        or len(platforms) > MAX_PREVIEW_CONNECTIONS
        or not all(isinstance(p, str) for p in platforms)
    ):
        raise ValidationError(
            f"platforms must list 1 to {MAX_PREVIEW_CONNECTIONS} platform ids",
            code="INVALID_PLATFORMS",
        )
    return content, platforms


def preview_response(previews: list[Preview]) -> PreviewPostResponse:
    return PreviewPostResponse(
        previews=[
            PlatformPreview(
                platform_id=p.platform_id,
                platform=p.platform,
                length=p.length,
                limit=p.limit,
                threads=p.threads,
                parts=list(p.parts),
                error=p.error,
            )
            for p in previews
        ]
    )


@router.post(
    "/preview-post",
    responses={200: {"model": PreviewPostResponse}, **errors(400)},
    openapi_extra=request_body_doc(PreviewPostRequest),
)
async def preview_post_route(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    content, platforms = parse_preview(body)
    async with context.transaction(write=False) as session:
        targets = await preview_targets(session, principal.account_id, platforms)
    previews = await asyncio.to_thread(plan_previews, content, targets)
    return wire(preview_response(previews))
