"""Publora's LinkedIn endpoints: linkedin-comments, linkedin-reactions, linkedin-reshare,
linkedin-post-statistics, linkedin-followers, linkedin-account-statistics and
linkedin-profile-summary, through the caller's LinkedIn connection; linkedin-mentionables from
the people met on the caller's company pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from herald.api.context import AppContext
from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.routes._docs import errors
from herald.api.schemas.base import request_body_doc
from herald.api.schemas.linkedin import (
    AccountStatisticsBody,
    CommentBody,
    CommentDeletion,
    FollowersBody,
    ProfileSummaryBody,
    ReactionBody,
    ReactionRemoval,
    ReshareBody,
    StatisticsBody,
)
from herald.domain.timestamps import utc_now
from herald.errors import ValidationError
from herald.platforms.base import RejectedError
from herald.platforms.linkedin import actions
from herald.services import linkedin_requests as parse
from herald.services.auth import Principal
from herald.services.linkedin_mentionables import limit_of, mentionables
from herald.services.linkedin_social import (
    Author,
    ReactionExistsError,
    with_author,
)
from herald.services.linkedin_social import post_statistics as read_post_statistics
from herald.services.linkedin_summary import profile_summary as read_profile_summary

router = APIRouter(tags=["linkedin"])
_FAILED = (400, 401, 403, 404, 409, 429, 500, 504)


T = TypeVar("T")


async def as_author(
    context: AppContext,
    principal: Principal,
    platform_id: object,
    call: Callable[[Author], Awaitable[T]],
    failed: str,
) -> T:
    """`with_author` for the caller of this request, on the app's database, box and settings."""
    return await with_author(
        context.sessions,
        context.secret_box,
        context.settings,
        principal.account_id,
        platform_id,
        call,
        failed,
    )


def _query_or_body(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """DELETEs take their fields as query parameters or as a JSON body (which wins)."""
    return {**dict(request.query_params), **body}


@router.post(
    "/linkedin-comments",
    status_code=201,
    responses=errors(*_FAILED),
    openapi_extra=request_body_doc(CommentBody),
)
async def create_comment(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    ask = parse.comment_request(body)

    async def call(author: Author) -> dict[str, Any]:
        return await actions.comment(author.api, author.urn, ask.posted_id, ask.message, ask.parent)

    comment = await as_author(
        context,
        principal,
        ask.platform_id,
        call,
        "Failed to create LinkedIn comment",
    )
    return JSONResponse({"success": True, "comment": comment}, status_code=201)


@router.delete(
    "/linkedin-comments",
    responses=errors(*_FAILED),
    openapi_extra=request_body_doc(CommentDeletion),
)
async def delete_comment(
    request: Request, body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    urn, platform_id, given, numeric = parse.comment_deletion(_query_or_body(request, body))

    async def call(author: Author) -> None:
        await actions.delete_comment(author.api, author.urn, urn, numeric)

    await as_author(
        context,
        principal,
        platform_id,
        call,
        "Failed to delete LinkedIn comment",
    )
    return JSONResponse({"success": True, "deleted": given})


@router.post(
    "/linkedin-reactions",
    status_code=201,
    responses=errors(*_FAILED),
    openapi_extra=request_body_doc(ReactionBody),
)
async def add_reaction(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    urn, platform_id, reaction = parse.reaction_request(body)

    async def call(author: Author) -> str:
        try:
            await actions.react(author.api, author.urn, urn, reaction)
        except RejectedError as refused:
            if refused.code != actions.REACTION_EXISTS:
                raise
            raise ReactionExistsError(reaction) from None
        return author.urn

    actor = await as_author(
        context,
        principal,
        platform_id,
        call,
        "Failed to add LinkedIn reaction",
    )
    reacted = {"reactionType": reaction, "actor": actor, "object": urn}
    return JSONResponse({"success": True, "reaction": reacted}, status_code=201)


@router.delete(
    "/linkedin-reactions",
    responses=errors(*_FAILED),
    openapi_extra=request_body_doc(ReactionRemoval),
)
async def remove_reaction(
    request: Request, body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    urn, platform_id = parse.reaction_removal(_query_or_body(request, body))

    async def call(author: Author) -> dict[str, Any]:
        kind = await actions.unreact(author.api, author.urn, urn)
        return {"reactionType": kind, "actor": author.urn, "object": urn}

    removed = await as_author(
        context,
        principal,
        platform_id,
        call,
        "Failed to remove LinkedIn reaction",
    )
    return JSONResponse({"success": True, "reaction": removed})


@router.post(
    "/linkedin-reshare",
    status_code=201,
    responses=errors(*_FAILED),
    openapi_extra=request_body_doc(ReshareBody),
)
async def reshare(body: JsonBody, context: Context, principal: CurrentPrincipal) -> JSONResponse:
    ask = parse.reshare_request(body)

    async def call(author: Author) -> dict[str, Any]:
        if author.is_page and ask.visibility == "CONNECTIONS":
            raise ValidationError(
                "LinkedIn organization reposts cannot use CONNECTIONS visibility; choose PUBLIC",
                code="INVALID_VISIBILITY",
            )
        return await actions.reshare(
            author.api, author.urn, ask.parent, ask.commentary, ask.visibility
        )

    shared = await as_author(
        context,
        principal,
        ask.platform_id,
        call,
        "Failed to create LinkedIn reshare",
    )
    return JSONResponse({"success": True, "reshare": shared}, status_code=201)


@router.post(
    "/linkedin-post-statistics",
    responses=errors(*_FAILED),
    openapi_extra=request_body_doc(StatisticsBody),
)
async def post_statistics(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    urn, platform_id, metrics, single = parse.statistics_request(body)

    async def call(author: Author) -> tuple[dict[str, int], bool]:
        return await read_post_statistics(context.sessions, author, urn, metrics, utc_now())

    counts, cached = await as_author(
        context,
        principal,
        platform_id,
        call,
        "Failed to fetch LinkedIn post statistics",
    )
    if single:
        return JSONResponse({"success": True, "count": counts[metrics[0]], "cached": cached})
    return JSONResponse({"success": True, "metrics": counts, "cached": cached})


@router.post(
    "/linkedin-followers",
    responses=errors(*_FAILED),
    openapi_extra=request_body_doc(FollowersBody),
)
async def followers(body: JsonBody, context: Context, principal: CurrentPrincipal) -> JSONResponse:
    platform_id, period, span = parse.followers_request(body)

    async def call(author: Author) -> dict[str, Any]:
        if period == "lifetime":
            return {"followersCount": await actions.followers(author.api, author.urn)}
        if author.is_page or span is None:
            raise ValidationError(
                "Daily follower growth is available for member connections only",
                code="UNSUPPORTED_PERIOD",
            )
        days = await actions.daily_followers(author.api, span[0], span[1])
        return {"data": days, "totalGrowth": sum(d["count"] for d in days)}

    answer = await as_author(
        context,
        principal,
        platform_id,
        call,
        "Failed to fetch LinkedIn followers statistics",
    )
    return JSONResponse({"success": True, **answer, "cached": False})


@router.post(
    "/linkedin-account-statistics",
    responses=errors(*_FAILED),
    openapi_extra=request_body_doc(AccountStatisticsBody),
)
async def account_statistics(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    platform_id, metrics, aggregation = parse.account_request(body)

    async def call(author: Author) -> dict[str, int]:
        return await actions.account_metrics(author.api, metrics)

    counts = await as_author(
        context,
        principal,
        platform_id,
        call,
        "Failed to fetch LinkedIn account statistics",
    )
    return JSONResponse(
        {"success": True, "metrics": counts, "aggregation": aggregation, "cached": False}
    )


@router.post(
    "/linkedin-profile-summary",
    responses=errors(*_FAILED, 502),
    openapi_extra=request_body_doc(ProfileSummaryBody),
)
async def profile_summary(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    platform_id, span = parse.summary_request(body)

    async def call(author: Author) -> dict[str, Any]:
        return await read_profile_summary(author, span)

    answer = await as_author(
        context,
        principal,
        platform_id,
        call,
        "Failed to fetch LinkedIn profile data",
    )
    return JSONResponse(answer)


@router.get("/linkedin-mentionables", responses=errors(401, 403))
async def list_mentionables(
    request: Request, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    query = request.query_params
    people = await mentionables(
        context.sessions,
        context.secret_box,
        context.settings,
        principal.account_id,
        query.get("q"),
        limit_of(query.get("limit")),
    )
    return JSONResponse({"success": True, "people": people})
