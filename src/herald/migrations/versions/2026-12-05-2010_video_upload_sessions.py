"""Upload sessions: a target's resumable upload handle and confirmed offset (YouTube).

Revision ID: video01upload
Revises: parity01lookup
Create Date: 2026-12-05 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from herald.db.types import UTCDateTime

revision: str = "video01upload"
down_revision: str | None = "parity01lookup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload_session",
        sa.Column("target_id", sa.String(24), nullable=False),
        sa.Column("upload_key", sa.String(128), nullable=False),
        sa.Column("sealed_session", sa.LargeBinary(), nullable=True),
        sa.Column("confirmed_bytes", sa.BigInteger(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["publish_target.id"],
            name=op.f("fk_upload_session_target_id_publish_target"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("target_id", name=op.f("pk_upload_session")),
    )


def downgrade() -> None:
    op.drop_table("upload_session")
