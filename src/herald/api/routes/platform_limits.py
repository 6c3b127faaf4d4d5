"""GET /platform-limits: the limits Herald checks, per platform, as one document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from herald.api.deps import Context, CurrentPrincipal
from herald.api.routes._docs import errors
from herald.api.schemas.base import WireModel, wire
from herald.domain.platform_limits import all_platform_limits

router = APIRouter(tags=["posts"])


class PlatformLimitsResponse(WireModel):
    success: bool = True
    schema_version: int
    source: str
    package_version: str
    limits_last_updated: str
    supported_platforms: list[str]
    platforms: dict[str, dict[str, Any]]


@router.get("/platform-limits", responses={200: {"model": PlatformLimitsResponse}, **errors()})
async def platform_limits(context: Context, principal: CurrentPrincipal) -> JSONResponse:
    del principal  # the limits are the same for everyone, but only callers with a key see them
    limits = all_platform_limits(context.settings.media_max_upload_bytes)
    return wire(PlatformLimitsResponse(**limits))
