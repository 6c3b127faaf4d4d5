"""Per-account counts per fixed window (API requests, media URLs), shared by every replica."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.models._columns import ID_LENGTH


class RateLimitWindow(Base):
    __tablename__ = "rate_limit_window"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch seconds
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class MediaUrlWindow(Base):
    """Media URLs fetched per account per fixed hour (publora-latest §5.7: 60 an hour)."""

    __tablename__ = "media_url_window"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch seconds
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
