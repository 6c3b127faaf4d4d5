"""Groups whose stored status is to be refreshed: written with each finishing outcome, so a
worker that dies between its outcome's commit and the group's refresh leaves a row that another
worker's maintenance picks up, instead of a status that stays behind its targets.

A group left behind by a worker that died before this revision has no row, and stays as it
was until its next change.

Revision ID: engine22due
Revises: reads21weeks
Create Date: 2026-12-06 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from herald.db.types import UTCDateTime

revision: str = "engine22due"
down_revision: str | None = "reads21weeks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_status_due",
        sa.Column("post_group_id", sa.String(24), nullable=False),
        sa.Column("since", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("post_group_id", name=op.f("pk_group_status_due")),
    )


def downgrade() -> None:
    op.drop_table("group_status_due")
