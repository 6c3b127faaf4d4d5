"""Engine: per-connection gates, the part of each attempt, the in-doubt index.

Revision ID: 75e0d12a7264
Revises: 94e31f554596
Create Date: 2026-11-29 16:26:42.504540
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.db.types

revision: str = "75e0d12a7264"
down_revision: str | None = "94e31f554596"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connection_gate",
        sa.Column("connection_id", sa.String(length=24), nullable=False),
        sa.Column("blocked_until", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_connection_gate_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_connection_gate")),
    )
    with op.batch_alter_table("publish_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("part", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.create_index(
            "ix_publish_target_doubt",
            ["in_doubt_since"],
            unique=False,
            postgresql_where=sa.text("state = 'in_doubt'"),
            sqlite_where=sa.text("state = 'in_doubt'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_publish_target_doubt",
            postgresql_where=sa.text("state = 'in_doubt'"),
            sqlite_where=sa.text("state = 'in_doubt'"),
        )
    with op.batch_alter_table("publish_attempt", schema=None) as batch_op:
        batch_op.drop_column("part")

    op.drop_table("connection_gate")
