"""Wire shapes of the workspace endpoints (DESIGN §3.10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from herald.api.schemas.base import WireModel
from herald.domain.timestamps import format_timestamp
from herald.errors import ValidationError, check_length
from herald.models import Account

# The display name defaults to the email, and both fit the account's name column. Addresses
# longer than 200 characters are legal (up to 254) but unheard of.
EMAIL_MAX_CHARACTERS = DISPLAY_NAME_MAX_CHARACTERS = 200


class CreateUserRequest(WireModel):
    email: str | None = Field(default=None, max_length=EMAIL_MAX_CHARACTERS)
    # What the MCP client sends instead of email.
    username: str | None = Field(default=None, max_length=EMAIL_MAX_CHARACTERS)
    display_name: str | None = Field(default=None, max_length=DISPLAY_NAME_MAX_CHARACTERS)


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
    field = "email" if body.get("email") else "username"
    email = body.get(field)
    if not isinstance(email, str) or not email.strip():
        raise ValidationError("email or username is required", code="EMAIL_REQUIRED")
    email = email.strip()
    check_length(field, email, EMAIL_MAX_CHARACTERS)
    display_name = body.get("displayName")
    if display_name is not None and not isinstance(display_name, str):
        raise ValidationError("displayName must be a string", code="INVALID_DISPLAY_NAME")
    if display_name is not None:
        check_length("displayName", display_name, DISPLAY_NAME_MAX_CHARACTERS)
    return email, display_name


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
