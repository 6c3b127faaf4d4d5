"""Workspace managed users, under /workspace/users and the /workspace-users aliases."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.routes._docs import errors
from herald.api.schemas.base import SuccessResponse, request_body_doc, wire
from herald.api.schemas.workspace import (
    CreateUserRequest,
    CreateUserResponse,
    UserKeyResponse,
    UsersResponse,
    create_user_response,
    parse_create_user,
    workspace_user,
)
from herald.domain.timestamps import utc_now
from herald.services import workspace

router = APIRouter(tags=["workspace"])

# The guide documents /workspace/users; SKILL.md uses /workspace-users. Both are served.
_PREFIXES = ("/workspace/users", "/workspace-users")


async def list_users(context: Context, principal: CurrentPrincipal) -> JSONResponse:
    workspace_id = workspace.require_workspace(principal)
    async with context.transaction(write=False) as session:
        users = await workspace.list_users(session, workspace_id)
        return wire(UsersResponse(users=[workspace_user(u) for u in users]))


async def create_user(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    workspace_id = workspace.require_workspace(principal)
    email, display_name = parse_create_user(body)
    async with context.transaction() as session:
        user = await workspace.create_user(session, workspace_id, email, display_name)
    return wire(create_user_response(user))


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
    return wire(UserKeyResponse(api_key=key))


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
        include_in_schema=not _alias,
        responses={200: {"model": CreateUserResponse}, **errors(400, 403, 409)},
        openapi_extra=request_body_doc(CreateUserRequest),
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
