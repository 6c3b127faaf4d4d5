"""POST /post-statistics and /profile-statistics (Mastodon and Bluesky)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.routes._docs import errors
from herald.api.schemas.base import WireModel, omitted_when_none, request_body_doc, wire
from herald.domain.timestamps import format_timestamp, utc_now
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.services import analytics

router = APIRouter(tags=["analytics"])
READ_TIMEOUT_S = 20.0


class PostEntry(WireModel):
    platform: str
    platform_id: str
    posted_id: str


class PostStatisticsRequest(WireModel):
    posts: list[PostEntry]


class ProfileStatisticsRequest(WireModel):
    platform: str
    platform_id: str


class PostStatisticsResponse(WireModel):
    success: bool = True
    stats: dict[str, dict[str, int | None] | None] = Field(description="By postedId")
    rate_limited: bool | None = omitted_when_none("A connection was in a rate-limit cooldown")
    issues: dict[str, str] | None = omitted_when_none("By connection id, when any")


class ProfileStatisticsResponse(WireModel):
    success: bool = True
    profile: dict[str, int | None] | None
    cached: bool
    fetched_at: str | None
    rate_limited: bool | None = omitted_when_none("During a rate-limit cooldown")
    unavailable: str | None = omitted_when_none("AUTH_REVOKED or FORBIDDEN")


@router.post(
    "/post-statistics",
    responses={200: {"model": PostStatisticsResponse}, **errors(504)},
    openapi_extra=request_body_doc(PostStatisticsRequest),
)
async def post_statistics(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    queries = analytics.parse_post_query(body)
    egress = EgressPolicy.from_settings(context.settings)
    async with one_off_client(egress, READ_TIMEOUT_S) as client:
        result = await analytics.within_budget(
            analytics.post_statistics(
                context.sessions,
                context.secret_box,
                client,
                principal.account_id,
                queries,
                utc_now(),
            )
        )
    return wire(
        PostStatisticsResponse(
            stats=result.stats,
            rate_limited=True if result.rate_limited else None,
            issues=result.issues or None,
        )
    )


@router.post(
    "/profile-statistics",
    responses={200: {"model": ProfileStatisticsResponse}, **errors(404, 502, 504)},
    openapi_extra=request_body_doc(ProfileStatisticsRequest),
)
async def profile_statistics(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    platform, external_id = analytics.parse_profile_query(body)
    egress = EgressPolicy.from_settings(context.settings)
    async with one_off_client(egress, READ_TIMEOUT_S) as client:
        result: Any = await analytics.within_budget(
            analytics.profile_statistics(
                context.sessions,
                context.secret_box,
                client,
                principal.account_id,
                platform,
                external_id,
                utc_now(),
            )
        )
    return wire(
        ProfileStatisticsResponse(
            profile=result.profile,
            cached=result.cached,
            fetched_at=format_timestamp(result.fetched_at) if result.fetched_at else None,
            rate_limited=True if result.rate_limited else None,
            unavailable=result.unavailable,
        )
    )
