"""Statistics read from a platform, kept about two hours (publora-latest §2.5) and shared by
every caller of the same connection; a platform's rate-limit cooldown is a row too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.db.types import UTCDateTime


class AnalyticsCacheEntry(Base):
    __tablename__ = "analytics_cache"

    # "post:<connection id>:<posted id>", "profile:<connection id>" or "cooldown:<scope>".
    key: Mapped[str] = mapped_column(String(700), primary_key=True)
    # The metrics; null remembers a post the platform does not have.
    value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
