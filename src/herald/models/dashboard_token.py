"""The dashboard's bearer tokens: one-time sign-in links and browser sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.db.types import UTCDateTime
from herald.models._columns import ID_LENGTH, created_at_column

SIGN_IN = "sign_in"  # a link that works once, then becomes a session
SESSION = "session"  # a signed-in browser


class DashboardToken(Base):
    """Only the SHA-256 of a token is stored, like an API key's: the database alone cannot
    sign anyone in. A session carries its CSRF token, sent back with every form."""

    __tablename__ = "dashboard_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), nullable=False
    )
    csrf: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    created_at: Mapped[datetime] = created_at_column()
