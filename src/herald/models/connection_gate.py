"""Per-connection gates: a connection blocked until a time (rate limit) or until re-authorised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.db.types import UTCDateTime
from herald.models._columns import ID_LENGTH


class ConnectionGate(Base):
    __tablename__ = "connection_gate"

    connection_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("connection.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reason: Mapped[str] = mapped_column(String(64), nullable=False)
