"""Workspace managed users, under /workspace/users and the /workspace-users aliases."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.routes._docs import errors
from herald.api.schemas.base import SuccessResponse, request_body_doc, wire
from herald.api.schemas.workspace import (
    AttachedUser,
    AttachUserRequest,
    AttachUserResponse,
    ConnectionUrlRequest,
    ConnectionUrlResponse,
    CreateUserRequest,
    CreateUserResponse,
    UserKeyResponse,
    UsersResponse,
    connection_url_response,
    managed_user,
    parse_attach_user,
    parse_connection_url,
    parse_create_user,
)
from herald.domain.timestamps import utc_now
from herald.services import workspace
from herald.services.connections_page import page_links

router = APIRouter(tags=["workspace"])

# The guide documents /workspace/users; SKILL.md uses /workspace-users. Both are served.
_PREFIXES = ("/workspace/users", "/workspace-users")


async def list_users(context: Context, principal: CurrentPrincipal) -> JSONResponse:
    workspace_id = workspace.require_workspace(principal)
    links, now = page_links(context.settings), utc_now()
    async with context.transaction(write=False) as session:
        users = await workspace.list_users(session, workspace_id)
        return wire(UsersResponse(users=[managed_user(u, p, links, now) for u, p in users]))


async def create_user(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    workspace_id = workspace.require_workspace(principal)
    email, display_name = parse_create_user(body)
    links, now = page_links(context.settings), utc_now()
    async with context.transaction() as session:
        user = await workspace.create_user(session, workspace_id, email, display_name)
    return wire(CreateUserResponse(user=managed_user(user, None, links, now)), status_code=201)


async def attach_user(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    workspace_id = workspace.require_workspace(principal)
    email, user_id = parse_attach_user(body)
    links, now = page_links(context.settings), utc_now()
    async with context.transaction(write=False) as session:
        user = await workspace.attach_user(session, workspace_id, email, user_id)
        page = (await workspace.list_pages(session, [user.id])).get(user.id)
    shown = managed_user(user, page, links, now)
    return wire(AttachUserResponse(user=AttachedUser(**shown.model_dump())))


async def delete_user(user_id: str, context: Context, principal: CurrentPrincipal) -> JSONResponse:
    workspace_id = workspace.require_workspace(principal)
    async with context.transaction() as session:
        await workspace.delete_user(session, workspace_id, user_id)
    return wire(SuccessResponse())


async def regenerate_key(
    user_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    workspace_id = workspace.require_workspace(principal)
    async with context.transaction() as session:
        key = await workspace.regenerate_user_key(session, workspace_id, user_id, utc_now())
    return wire(UserKeyResponse(api_key=key, user_id=user_id))


async def connection_url(
    user_id: str, body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    workspace_id = workspace.require_workspace(principal)
    rotate, days = parse_connection_url(body)
    links = page_links(context.settings)
    async with context.transaction() as session:
        page = await workspace.connection_url(
            session, workspace_id, user_id, rotate=rotate, days=days, now=utc_now()
        )
        return wire(connection_url_response(page, links))


for _prefix in _PREFIXES:
    _alias = _prefix != _PREFIXES[0]
    router.add_api_route(
        _prefix,
        list_users,
        methods=["GET"],
        include_in_schema=not _alias,
        responses={200: {"model": UsersResponse}, **errors(403)},
    )
    router.add_api_route(
        _prefix,
        create_user,
        methods=["POST"],
        status_code=201,
        include_in_schema=not _alias,
        responses={201: {"model": CreateUserResponse}, **errors(400, 403, 409)},
        openapi_extra=request_body_doc(CreateUserRequest),
    )
    router.add_api_route(
        _prefix + "/attach",
        attach_user,
        methods=["POST"],
        include_in_schema=not _alias,
        responses={200: {"model": AttachUserResponse}, **errors(400, 403, 404)},
        openapi_extra=request_body_doc(AttachUserRequest),
    )
    router.add_api_route(
        _prefix + "/{user_id}",
        delete_user,
        methods=["DELETE"],
        include_in_schema=not _alias,
        responses={200: {"model": SuccessResponse}, **errors(403, 404)},
    )
    router.add_api_route(
        _prefix + "/{user_id}/api-key",
        regenerate_key,
        methods=["POST"],
        include_in_schema=not _alias,
        responses={200: {"model": UserKeyResponse}, **errors(403, 404)},
    )
    router.add_api_route(
        _prefix + "/{user_id}/connection-url",
        connection_url,
        methods=["POST"],
        include_in_schema=not _alias,
        responses={200: {"model": ConnectionUrlResponse}, **errors(403, 404)},
        openapi_extra=request_body_doc(ConnectionUrlRequest),
    )
