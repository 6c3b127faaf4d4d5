"""Posts: a first comment per group, and the hourly count of media URLs each account fetched.

Revision ID: p14edits_first_comment
Revises: b7e2oauth0c01
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "p14edits_first_comment"
down_revision: str | None = "b7e2oauth0c01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_comment", sa.JSON(), nullable=True))
    op.create_table(
        "media_url_window",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "window_start"),
    )


def downgrade() -> None:
    op.drop_table("media_url_window")
    with op.batch_alter_table("post_group", schema=None) as batch_op:
        batch_op.drop_column("first_comment")
