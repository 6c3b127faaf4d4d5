"""Wire shapes of the workspace endpoints (DESIGN §3.10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.api.schemas.base import WireModel
from herald.domain.timestamps import format_timestamp
from herald.errors import ValidationError
from herald.models import Account


class CreateUserRequest(WireModel):
    email: str | None = None
    username: str | None = None  # what the MCP client sends instead of email
    display_name: str | None = None


class WorkspaceUser(WireModel):
    id: str
    email: str | None
    display_name: str
    created_at: str


class UsersResponse(WireModel):
    success: bool = True
    users: list[WorkspaceUser]


class CreateUserResponse(WireModel):
    """`user` for the MCP client, and the same fields flat for the guide's examples."""

    success: bool = True
    user: WorkspaceUser
    id: str
    email: str | None
    display_name: str
    created_at: str


class UserKeyResponse(WireModel):
    success: bool = True
    api_key: str


def parse_create_user(body: Mapping[str, Any]) -> tuple[str, str | None]:
    email = body.get("email") or body.get("username")
    if not isinstance(email, str) or not email.strip():
        raise ValidationError("email or username is required", code="EMAIL_REQUIRED")
    display_name = body.get("displayName")
    if display_name is not None and not isinstance(display_name, str):
        raise ValidationError("displayName must be a string", code="INVALID_DISPLAY_NAME")
    return email.strip(), display_name


def workspace_user(account: Account) -> WorkspaceUser:
    return WorkspaceUser(
        id=account.id,
        email=account.email,
        display_name=account.name,
        created_at=format_timestamp(account.created_at),
    )


def create_user_response(account: Account) -> CreateUserResponse:
    user = workspace_user(account)
    return CreateUserResponse(user=user, **user.model_dump())
