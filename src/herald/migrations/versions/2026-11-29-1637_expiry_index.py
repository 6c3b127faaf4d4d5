"""Index the expiry of waiting targets, which the rescuer scans every few seconds.

Revision ID: 3f6b2d9c8a17
Revises: 75e0d12a7264
Create Date: 2026-11-29 16:37:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6b2d9c8a17"
down_revision: str | None = "75e0d12a7264"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text("state = 'scheduled'")


def upgrade() -> None:
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.create_index(
            "ix_publish_target_expiry",
            ["expire_at"],
            unique=False,
            postgresql_where=WHERE,
            sqlite_where=WHERE,
        )


def downgrade() -> None:
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.drop_index("ix_publish_target_expiry", postgresql_where=WHERE, sqlite_where=WHERE)
