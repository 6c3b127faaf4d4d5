"""Wire shape of `POST /test-connection/:platformId`: no `success` key, as Publora sends it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from herald.api.schemas.base import WireModel


class LastError(WireModel):
    message: str
    occurred_at: str


class TestConnectionResponse(WireModel):
    platform: str
    platform_id: str
    username: str | None = Field(description="null when the account has no public username")
    status: Literal["ok", "error"]
    message: str
    permissions: list[str] = Field(description="Herald does not read scopes: always empty")
    token_expires_in: str | None = Field(description='"45d 3h", "5h", "< 1h", "expired" or null')
    last_successful_post: str | None
    last_error: LastError | None
