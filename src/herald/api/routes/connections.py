"""GET /platform-connections, and Herald's extension to connect and disconnect accounts."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from herald.api.context import AppContext
from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.routes._docs import errors
from herald.api.schemas.base import request_body_doc, wire
from herald.api.schemas.connection import (
    ConnectionRemovedResponse,
    ConnectionResponse,
    ConnectionsResponse,
    CreateConnectionRequest,
    OAuthLinkResponse,
    connection_read,
)
from herald.domain.platform import Platform
from herald.domain.timestamps import format_timestamp
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.oauth.connect import connect_link
from herald.oauth.providers import PROVIDERS, oauth_platform
from herald.services import connection as connections
from herald.services.connection_inputs import connection_input

router = APIRouter(tags=["connections"])


@router.get(
    "/platform-connections",
    responses={200: {"model": ConnectionsResponse}, **errors()},
    response_class=JSONResponse,
)
async def platform_connections(context: Context, principal: CurrentPrincipal) -> JSONResponse:
    async with context.transaction(write=False) as session:
        found = await connections.list_connections(session, principal.account_id)
        return wire(ConnectionsResponse(connections=[connection_read(c) for c in found]))


@router.post(
    "/platform-connections",
    status_code=201,
    responses={
        201: {"model": ConnectionResponse},
        200: {
            "model": OAuthLinkResponse,
            "description": "An OAuth platform: open `url` in a browser to finish connecting",
        },
        **errors(400, 502),
    },
    openapi_extra=request_body_doc(CreateConnectionRequest),
)
async def connect_account(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    name = body.get("platform")
    oauth = oauth_platform(name) if isinstance(name, str) and name in set(Platform) else None
    if oauth is not None:
        return _oauth_link(oauth, context, principal.account_id)
    request = connection_input(name, body)
    egress = EgressPolicy.from_settings(context.settings)
    async with one_off_client(egress, connections.VERIFY_TIMEOUT_S) as client:
        profile = await connections.verify_account(request, client, context.settings)
    async with context.transaction() as session:
        saved = await connections.save_connection(
            session, context.secret_box, principal.account_id, request, profile
        )
        return wire(ConnectionResponse(connection=connection_read(saved)), status_code=201)


@router.delete(
    "/platform-connections/{platform_id}",
    responses={200: {"model": ConnectionRemovedResponse}, **errors(404)},
)
async def disconnect_account(
    platform_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction() as session:
        await connections.remove_connection(session, platform_id, principal.account_id)
    return wire(ConnectionRemovedResponse(platform_id=platform_id))


def _oauth_link(platform: Platform, context: AppContext, account_id: str) -> JSONResponse:
    """An API call cannot give a platform's consent: the answer is the link a person opens."""
    link = connect_link(account_id, platform.value, context.settings)
    title = PROVIDERS[platform].title
    return wire(
        OAuthLinkResponse(
            platform=platform.value,
            url=link.url,
            token_expires_at=format_timestamp(link.expires_at),
            message=f"Open url in a browser and approve Herald on {title} to finish connecting",
        )
    )
