"""Dashboard: an account's password and time zone, and its sign-in links and browser sessions.

Revision ID: dash01signin
Revises: video01upload
Create Date: 2026-12-05 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.db.types

revision: str = "dash01signin"
down_revision: str | None = "video01upload"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.create_table(
        "dashboard_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=True),
        sa.Column("expires_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_dashboard_token_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_dashboard_token")),
    )
    with op.batch_alter_table("dashboard_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_token_expires_at"), ["expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("dashboard_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_token_expires_at"))
    op.drop_table("dashboard_token")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
        batch_op.drop_column("password_hash")
