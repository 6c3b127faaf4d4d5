"""Wire shapes of the workspace endpoints (publora-latest §2.19, Publora's ManagedUser)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from herald.api.schemas.base import WireModel
from herald.domain.ids import is_id
from herald.domain.timestamps import format_timestamp
from herald.errors import ValidationError, check_length
from herald.models import Account, ConnectionsPage
from herald.services.connections_page import DEFAULT_DAYS, MAX_DAYS, PageLinks, current

# The display name defaults to the email, and both fit the account's name column. Addresses
# longer than 200 characters are legal (up to 254) but unheard of.
EMAIL_MAX_CHARACTERS = DISPLAY_NAME_MAX_CHARACTERS = 200
# Publora keeps the field but does not enforce it (G/workspace); neither does Herald.
DAILY_POSTS_LEFT = 100


class CreateUserRequest(WireModel):
    username: str = Field(max_length=EMAIL_MAX_CHARACTERS, description="The user's email")
    display_name: str | None = Field(default=None, max_length=DISPLAY_NAME_MAX_CHARACTERS)
    email: str | None = Field(
        default=None,
        max_length=EMAIL_MAX_CHARACTERS,
        description="What the February 2026 guide sent instead of username; still accepted",
    )


class ManagedUser(WireModel):
    id: str = Field(alias="_id")
    username: str = Field(description="The user's email")
    display_name: str
    role: Literal["managed"] = "managed"
    daily_posts_left: int = DAILY_POSTS_LEFT
    connections_page_url: str | None = Field(json_schema_extra={"format": "uri"})
    connections_page_token_expires_at: str | None


class AttachUserRequest(WireModel):
    email: str | None = None
    username: str | None = Field(default=None, description="Another name for email")
    user_id: str | None = None
    user_access_token: str | None = Field(
        default=None, description="Not needed: Herald attaches only its own users again"
    )


class AttachedUser(ManagedUser):
    is_active: bool = True


class AttachUserResponse(WireModel):
    user: AttachedUser
    already_in_workspace: bool = True


class UsersResponse(WireModel):
    users: list[ManagedUser]


class CreateUserResponse(WireModel):
    user: ManagedUser


class UserKeyResponse(WireModel):
    message: str = "API key generated successfully"
    api_key: str
    user_id: str


class ConnectionUrlRequest(WireModel):
    rotate: bool = False
    expires_in_days: float = Field(default=DEFAULT_DAYS, gt=0, le=MAX_DAYS)


class ConnectionUrlResponse(WireModel):
    url: str = Field(json_schema_extra={"format": "uri"})
    token_expires_at: str


def parse_create_user(body: Mapping[str, Any]) -> tuple[str, str | None]:
    field = "username" if body.get("username") else "email"
    email = body.get(field)
    if not isinstance(email, str) or not email.strip():
        raise ValidationError("Email is required", code="EMAIL_REQUIRED")
    email = email.strip()
    check_length(field, email, EMAIL_MAX_CHARACTERS)
    display_name = body.get("displayName")
    if display_name is not None and not isinstance(display_name, str):
        raise ValidationError("displayName must be a string", code="INVALID_DISPLAY_NAME")
    if display_name is not None:
        check_length("displayName", display_name, DISPLAY_NAME_MAX_CHARACTERS)
    return email, display_name


def parse_attach_user(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    email = body.get("email", body.get("username"))
    user_id = body.get("userId")
    if email in (None, "") and user_id in (None, ""):
        raise ValidationError("Email or userId is required", code="missing_identifier")
    if email not in (None, "") and (
        not isinstance(email, str) or "@" not in email or len(email) > EMAIL_MAX_CHARACTERS
    ):
        raise ValidationError("Invalid email", code="invalid_email")
    if user_id not in (None, "") and (not isinstance(user_id, str) or not is_id(user_id)):
        raise ValidationError("Invalid userId", code="invalid_user_id")
    return (email or None), (user_id or None)


def parse_connection_url(body: Mapping[str, Any]) -> tuple[bool, float]:
    rotate = body.get("rotate", False)
    if not isinstance(rotate, bool):
        raise ValidationError("rotate must be a boolean", code="INVALID_ROTATE")
    days = body.get("expiresInDays", DEFAULT_DAYS)
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= MAX_DAYS:
        raise ValidationError(
            f"expiresInDays must be a number above 0 and at most {MAX_DAYS}",
            code="INVALID_EXPIRES_IN_DAYS",
        )
    return rotate, float(days)


def managed_user(
    account: Account, page: ConnectionsPage | None, links: PageLinks, now: datetime
) -> ManagedUser:
    live = current(page, now)
    return ManagedUser(
        id=account.id,
        username=account.email or "",
        display_name=account.name,
        connections_page_url=links.url(live) if live else None,
        connections_page_token_expires_at=format_timestamp(live.expires_at) if live else None,
    )


def connection_url_response(page: ConnectionsPage, links: PageLinks) -> ConnectionUrlResponse:
    return ConnectionUrlResponse(
        url=links.url(page), token_expires_at=format_timestamp(page.expires_at)
    )
