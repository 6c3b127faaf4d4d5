"""POST /test-connection/:platformId: does a stored connection still work on its platform?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from herald.api.deps import Context, CurrentPrincipal
from herald.api.routes._docs import errors
from herald.api.schemas.base import wire
from herald.api.schemas.connection_check import LastError, TestConnectionResponse
from herald.domain.timestamps import format_timestamp, utc_now
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.services import connection_check
from herald.services.connection import VERIFY_TIMEOUT_S

router = APIRouter(tags=["connections"])


@router.post(
    "/test-connection/{platform_id}",
    responses={200: {"model": TestConnectionResponse}, **errors(400, 404)},
)
async def test_connection(
    platform_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction(write=False) as session:
        stored = await connection_check.load_connection(
            session, context.secret_box, principal.account_id, platform_id
        )
    egress = EgressPolicy.from_settings(context.settings)
    async with one_off_client(egress, VERIFY_TIMEOUT_S) as client:
        result = await connection_check.check_connection(stored, client, context.settings)
    connection = stored.connection
    failure = stored.last_error
    return wire(
        TestConnectionResponse(
            platform=connection.platform,
            platform_id=_public_id(connection.platform, connection.external_id),
            username=result.username,
            status="ok" if result.ok else "error",
            message=result.message,
            permissions=[],
            token_expires_in=connection_check.token_expiry(connection, utc_now()),
            last_successful_post=format_timestamp(stored.last_success)
            if stored.last_success
            else None,
            last_error=LastError(message=failure[0], occurred_at=format_timestamp(failure[1]))
            if failure
            else None,
        )
    )


def _public_id(platform: str, external_id: str) -> str:
    return f"{platform}-{external_id}"
