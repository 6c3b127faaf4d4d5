"""GET /platform-connections."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from herald.api.deps import Context, CurrentPrincipal
from herald.api.routes._docs import errors
from herald.api.schemas.base import wire
from herald.api.schemas.connection import ConnectionsResponse, connection_read
from herald.services.connection import list_connections

router = APIRouter(tags=["connections"])


@router.get(
    "/platform-connections",
    responses={200: {"model": ConnectionsResponse}, **errors()},
    response_class=JSONResponse,
)
async def platform_connections(context: Context, principal: CurrentPrincipal) -> JSONResponse:
    async with context.transaction(write=False) as session:
        connections = await list_connections(session, principal.account_id)
        return wire(ConnectionsResponse(connections=[connection_read(c) for c in connections]))
