"""Engine: a durable count of the claims of each target that ended with no outcome.

Revision ID: 5c2e8a41f3d7
Revises: 8d41c7e2b5a9
Create Date: 2026-12-05 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2e8a41f3d7"
down_revision: str | None = "8d41c7e2b5a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crashes", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.drop_column("crashes")
