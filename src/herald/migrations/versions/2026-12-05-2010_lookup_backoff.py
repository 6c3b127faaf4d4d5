"""Engine: each in-doubt target's failed lookups and the time it may be looked up again.

Revision ID: parity01lookup
Revises: reads20tally
Create Date: 2026-12-05 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.db.types

revision: str = "parity01lookup"
down_revision: str | None = "reads20tally"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lookup_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("lookup_after", herald.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.drop_column("lookup_after")
        batch_op.drop_column("lookup_failures")
