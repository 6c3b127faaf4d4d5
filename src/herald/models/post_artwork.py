"""Images stored for a post group that are not its media: a YouTube thumbnail, an Instagram
Reels cover (publora-latest §2.7, §2.8). Kept apart from `media` so they are never published
as attachments; platformSettings point at them by id and URL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.models._columns import ID_LENGTH, created_at_column, id_column


class PostArtwork(Base):
    __tablename__ = "post_artwork"

    id: Mapped[str] = id_column()
    post_group_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("post_group.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    purpose: Mapped[str] = mapped_column(
        String(32), nullable=False
    )  # youtube_thumbnail | instagram_cover
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    storage_key: Mapped[str] = mapped_column(String(1024), nullable=False)
    public_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
