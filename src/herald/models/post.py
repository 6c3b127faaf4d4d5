"""Post groups, their publish targets (the engine's unit of work) and the attempt log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from herald.db.base import Base
from herald.db.types import UTCDateTime
from herald.models._columns import ID_LENGTH, created_at_column, id_column

_BITS = "platform_bits"
SORT_COLUMNS = ("created_at", "updated_at", "scheduled_at")
# Per sort column: one index in (account, column, id) order, one in (account, status, column,
# id) order for the status filter. Both carry the platform set, which the platform filter
# reads from them; only the second holds the status, which the engine rewrites.
LIST_INDEXES = tuple(
    index
    for column in SORT_COLUMNS
    for index in (
        Index(f"ix_post_group_by_{column}", "account_id", column, "id", _BITS),
        Index(f"ix_post_group_status_{column}", "account_id", "status", column, "id", _BITS),
    )
)


class PostGroup(Base):
    __tablename__ = "post_group"
    # list-posts reads one of these in its order, filters on the columns it carries, and
    # counts from it without touching the rows (`store.post_list`).
    __table_args__ = LIST_INDEXES

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), nullable=False
    )
    content: Mapped[str] = mapped_column(Text, nullable=False)
    platform_settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    alt_texts: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    # publora-latest §5.5: {"text", "platforms"?}; each target's result is in its progress.
    first_comment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Derived from the targets (domain.post_state.group_status) and stored for filtering.
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    # The targets' platforms (domain.platform.PLATFORM_BITS), kept by create and update: the list's
    # platform filter reads it from an index instead of looking at every target.
    platform_bits: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    targets: Mapped[list[PublishTarget]] = relationship(
        back_populates="post_group",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PublishTarget.position",
        lazy="selectin",
    )


class PublishTarget(Base):
    """One (post group, connection): its own state, due time, lease and fencing token."""

    __tablename__ = "publish_target"
    __table_args__ = (
        Index(
            "ix_publish_target_due",
            "due_at",
            "id",
            postgresql_where=text("state = 'scheduled'"),
            sqlite_where=text("state = 'scheduled'"),
        ),
        Index(
            "ix_publish_target_lease",
            "lease_until",
            postgresql_where=text("state IN ('publishing', 'reconciling')"),
            sqlite_where=text("state IN ('publishing', 'reconciling')"),
        ),
        Index(
            "ix_publish_target_expiry",
            "expire_at",
            postgresql_where=text("state = 'scheduled'"),
            sqlite_where=text("state = 'scheduled'"),
        ),
        Index(
            "ix_publish_target_doubt",
            "in_doubt_since",
            postgresql_where=text("state = 'in_doubt'"),
            sqlite_where=text("state = 'in_doubt'"),
        ),
    )

    id: Mapped[str] = id_column()
    post_group_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("post_group.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    # The connection may be removed later; platform and external id are kept for display.
    connection_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("connection.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    external_account_id: Mapped[str] = mapped_column(String(255), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    state: Mapped[str] = mapped_column(String(32), nullable=False)
    # Text of each part as it will be published; one element unless the platform threads it.
    thread_parts: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)

    # Engine bookkeeping (engine-research §7.2).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    claim_token: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When this claim's platform call began: the send gate, or the reconciler's lookup.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    in_doubt_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Crashes of this target's claims (domain.publishing.MAX_CRASHES): each claim adds one,
    # taken back when it records an outcome, finds itself fenced (its worker came back) or is
    # rescued before any platform call began; past MAX_CRASHES it is parked as ENGINE_ERROR.
    crashes: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The reconciler's failed lookups of this doubt and when it may look again
    # (domain.publishing.lookup_backoff, or the platform's rate-limit reset): in the row, so a
    # restarted worker keeps the pause. Cleared when the target leaves doubt for a re-send.
    lookup_failures: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    lookup_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    # Recovery points of multi-step publishes, e.g. the ids of thread parts already posted.
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    # Outcome.
    external_id: Mapped[str | None] = mapped_column(String(512))
    external_url: Mapped[str | None] = mapped_column(String(2048))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = created_at_column()

    post_group: Mapped[PostGroup] = relationship(back_populates="targets")


class PublishAttempt(Base):
    """Append-only log of every platform call, including late evidence of success."""

    __tablename__ = "publish_attempt"

    id: Mapped[str] = id_column()
    target_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("publish_target.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    claim_token: Mapped[int] = mapped_column(BigInteger, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    part: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    http_status: Mapped[int | None] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(512))
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = created_at_column()
