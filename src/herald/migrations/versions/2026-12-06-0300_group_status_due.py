"""Groups whose stored status is to be refreshed: written with each finishing outcome, so a
worker that dies between its outcome's commit and the group's refresh leaves a row that another
worker's maintenance picks up, instead of a status that stays behind its targets.

Groups a worker left behind before this revision (every target finished, the stored status
still unfinished) are noted here too, so the engine's maintenance repairs them the same way.

Revision ID: engine22due
Revises: reads21weeks
Create Date: 2026-12-06 03:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from herald.db.types import UTCDateTime

revision: str = "engine22due"
down_revision: str | None = "reads21weeks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Spelled out rather than imported: a migration keeps meaning what it meant when written.
_FINISHED_STATES = ("published", "failed", "outcome_unknown")
_UNFINISHED_STATUSES = ("scheduled", "pending", "processing")


def upgrade() -> None:
    due = op.create_table(
        "group_status_due",
        sa.Column("post_group_id", sa.String(24), nullable=False),
        sa.Column("since", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("post_group_id", name=op.f("pk_group_status_due")),
    )
    group = sa.table("post_group", sa.column("id"), sa.column("status"))
    target = sa.table("publish_target", sa.column("post_group_id"), sa.column("state"))
    of_group = target.c.post_group_id == group.c.id
    left_behind = sa.select(
        group.c.id, sa.bindparam("since", datetime.now(UTC), type_=UTCDateTime(timezone=True))
    ).where(
        group.c.status.in_(_UNFINISHED_STATUSES),
        sa.exists().where(of_group),
        ~sa.exists().where(of_group, target.c.state.not_in(_FINISHED_STATES)),
    )
    op.execute(due.insert().from_select(["post_group_id", "since"], left_behind))


def downgrade() -> None:
    op.drop_table("group_status_due")
