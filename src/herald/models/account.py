"""Accounts: tenants, and the managed users that workspace accounts own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.models._columns import ID_LENGTH, created_at_column, id_column


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("parent_id", "email"),)

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    is_workspace: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Set for managed users: the workspace account that owns them.
    parent_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    # The dashboard's sign-in (argon2id, services.dashboard_auth); None: no password sign-in.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # An IANA zone the dashboard shows times in; None is UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64))
