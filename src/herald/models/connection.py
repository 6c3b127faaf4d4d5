"""Connections: one connected social account, with its profile and encrypted credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.db.types import UTCDateTime
from herald.models._columns import ID_LENGTH, created_at_column, id_column


class Connection(Base):
    __tablename__ = "connection"
    __table_args__ = (UniqueConstraint("account_id", "platform", "external_id"),)

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    username: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    display_name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    profile_image_url: Mapped[str] = mapped_column(String(2048), nullable=False, default="")
    profile_url: Mapped[str | None] = mapped_column(String(2048))
    # The effective expiry the owner must act on (Publora's accessTokenExpiresAt): null when
    # the credential does not expire or is renewed by Herald (a lasting refresh token).
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # OAuth: when the engine renews the access token (ahead of its expiry); null otherwise.
    refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # When `token.expiring` was sent for the current credential (once per credential).
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Fernet ciphertext of the platform credentials; never returned by the API.
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Non-secret connector settings, e.g. an instance or simulator base URL.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="active")
    created_at: Mapped[datetime] = created_at_column()
