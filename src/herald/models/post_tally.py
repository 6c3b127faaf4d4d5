"""Kept tallies of each account's post groups, for list-posts' exact `totalItems`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.models._columns import ID_LENGTH


class PostTally(Base):
    """How many of an account's groups have this stored status, this platform set and a time
    or none. Kept by `store.post_tally` in the transaction of every change; a count is the sum
    of a few rows instead of a walk over one index entry per group."""

    __tablename__ = "post_tally"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform_bits: Mapped[int] = mapped_column(Integer, primary_key=True)
    dated: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PostWeekTally(Base):
    """How many of an account's groups with this stored status and platform set fall in one
    week of one time axis: `c` created, `u` last updated, `s` scheduled (dated groups only).
    Weeks are counted from 1970-01-01 in UTC (`store.post_tally.week_of`). A date-bounded
    `totalItems` sums whole weeks and counts only its two edge weeks from the index; a deep
    page skips whole weeks the same way (`store.post_list`)."""

    __tablename__ = "post_week_tally"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    axis: Mapped[str] = mapped_column(String(1), primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform_bits: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PostCrossTally(Base):
    """How many of an account's dated groups with this stored status were created (`c`) or last
    updated (`u`) in one week and are scheduled in another. A list sorted by creation or update
    with date bounds on the scheduled time starts its walk at the first week that can hold a
    match, and a deep page of it skips whole weeks (`store.post_list`). The platform set is left
    out: it would multiply the rows by the sets in use, for a rare combination of filters."""

    __tablename__ = "post_cross_tally"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    axis: Mapped[str] = mapped_column(String(1), primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheduled_week: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)
