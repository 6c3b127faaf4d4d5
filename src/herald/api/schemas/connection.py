"""Wire shapes of /platform-connections."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from herald.api.schemas.base import WireModel
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import format_timestamp, utc_now
from herald.domain.token_health import token_expires_in, token_status
from herald.models import Connection


class ConnectionRead(WireModel):
    platform_id: str
    platform: str
    username: str
    display_name: str
    profile_image_url: str | None = Field(
        json_schema_extra={"format": "uri"}, description="null when the account has no picture"
    )
    profile_url: str | None
    access_token_expires_at: str | None
    token_status: str = Field(
        json_schema_extra={"enum": ["valid", "expiring_soon", "expired", "unknown"]},
        description="Credential health: `expired` also when the platform revoked it",
    )
    token_expires_in: str | None = Field(
        description='Time left on the effective expiry: "82d 4h", "5h", "< 1h", "expired"'
    )


class ConnectionsResponse(WireModel):
    success: bool = True
    connections: list[ConnectionRead]


def optional_timestamp(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment is not None else None


def connection_read(connection: Connection, now: datetime | None = None) -> ConnectionRead:
    now = now or utc_now()
    expiry = connection.access_token_expires_at
    return ConnectionRead(
        platform_id=platform_id(Platform(connection.platform), connection.external_id),
        platform=connection.platform,
        username=connection.username,
        display_name=connection.display_name,
        profile_image_url=connection.profile_image_url or None,  # stored as "" when absent
        profile_url=connection.profile_url,
        access_token_expires_at=optional_timestamp(expiry),
        token_status=token_status(
            platform=connection.platform,
            status=connection.status,
            expires_at=expiry,
            username=connection.username,
            now=now,
        ),
        token_expires_in=token_expires_in(expiry, now),
    )


class CreateConnectionRequest(WireModel):
    """Herald extension: connect an account with credentials the platform verifies first.
    Which fields a platform needs: bluesky handle + appPassword [+ pdsUrl]; mastodon
    instanceUrl + accessToken; telegram botToken + chat [+ apiUrl]; sandbox [baseUrl].
    An OAuth platform (twitter) needs only `platform`: the answer is a link to open in a
    browser (OAuthLinkResponse), since an API call cannot give the platform's consent."""

    platform: str
    handle: str | None = None
    app_password: str | None = None
    pds_url: str | None = None
    instance_url: str | None = None
    access_token: str | None = None
    bot_token: str | None = None
    chat: str | None = None
    api_url: str | None = None
    base_url: str | None = None


class ConnectionResponse(WireModel):
    success: bool = True
    connection: ConnectionRead


class ConnectionRemovedResponse(WireModel):
    success: bool = True
    platform_id: str


class OAuthLinkResponse(WireModel):
    """POST /platform-connections for an OAuth platform: where to finish in a browser. Named
    like Publora's connection-url answer (`url`, `tokenExpiresAt`)."""

    success: bool = True
    platform: str
    url: str = Field(json_schema_extra={"format": "uri"})
    token_expires_at: str
    message: str
