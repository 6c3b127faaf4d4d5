"""A managed user's connections page link (Publora's workspace `connection-url`, §2.19).

The link itself is never stored: it is an HMAC over (user, generation, expiry), so the same
row gives back the same URL until `rotate` bumps the generation or the expiry passes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.db.types import UTCDateTime
from herald.models._columns import ID_LENGTH, created_at_column


class ConnectionsPage(Base):
    __tablename__ = "connections_page"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # The nonce of the form last shown: a submission must carry it, and spends it.
    form_nonce: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = created_at_column()
