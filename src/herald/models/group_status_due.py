"""Groups whose stored status may be behind their targets: written with each finishing outcome,
cleared once the status is refreshed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.base import Base
from herald.db.types import UTCDateTime
from herald.models._columns import ID_LENGTH


class GroupStatusDue(Base):
    """A group one of whose targets finished: its stored status (list filters, tallies) is to be
    refreshed. The engine refreshes it moments later in a transaction of its own
    (`engine.batching.GroupStatusBatcher`); a row still here after a while belongs to a worker
    that died in between, and any worker's maintenance refreshes it
    (`GroupStatusBatcher.refresh_left_over`).

    No foreign key to `post_group`: checking one would take a share lock on the group row in the
    outcome's transaction, which holds target rows, and an edit locks the group before its
    targets: a cycle. A row whose group was deleted is simply cleared."""

    __tablename__ = "group_status_due"

    post_group_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
