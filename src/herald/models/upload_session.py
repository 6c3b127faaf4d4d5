"""A target's resumable upload as the platform last confirmed it (YouTube's session URI and
offset), kept so that a worker that dies mid-upload leaves the next one a session to resume."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.db.types import UTCDateTime
from herald.domain.timestamps import utc_now
from herald.models._columns import ID_LENGTH


class UploadSession(Base):
    __tablename__ = "upload_session"

    # One upload per target: video platforms take one video per post.
    target_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("publish_target.id", ondelete="CASCADE"),
        primary_key=True,
    )
    # The part's idempotency key when the session was opened: another key (the target was
    # edited and sent anew) never resumes this session.
    upload_key: Mapped[str] = mapped_column(String(128), nullable=False)
    # Fernet ciphertext of {"session": uri}: a session URI takes bytes without a token.
    sealed_session: Mapped[bytes | None] = mapped_column(LargeBinary)
    confirmed_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utc_now)
