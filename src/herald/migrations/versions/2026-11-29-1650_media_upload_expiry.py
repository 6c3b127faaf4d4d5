"""Media: when an upload URL expires, so unfinished uploads can be cleaned up.

Revision ID: 8d41c7e2b5a9
Revises: 3f6b2d9c8a17
Create Date: 2026-11-29 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.db.types

revision: str = "8d41c7e2b5a9"
down_revision: str | None = "3f6b2d9c8a17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "upload_expires_at", herald.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("upload_expires_at")
