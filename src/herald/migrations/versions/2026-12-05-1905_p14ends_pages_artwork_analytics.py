"""API: managed users' connections pages, post artwork (thumbnails, covers), analytics cache.

Revision ID: p14ends_a1c3e5
Revises: p14edits_first_comment
Create Date: 2026-12-05 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.db.types

revision: str = "p14ends_a1c3e5"
down_revision: str | None = "p14edits_first_comment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connections_page",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("expires_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("form_nonce", sa.String(length=64), nullable=True),
        sa.Column("updated_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_connections_page_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_connections_page")),
    )
    op.create_table(
        "post_artwork",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("post_group_id", sa.String(length=24), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column("public_url", sa.String(length=2048), nullable=False),
        sa.Column("created_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_group_id"],
            ["post_group.id"],
            name=op.f("fk_post_artwork_post_group_id_post_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_artwork")),
    )
    with op.batch_alter_table("post_artwork", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_post_artwork_post_group_id"), ["post_group_id"], unique=False
        )
    op.create_table(
        "analytics_cache",
        sa.Column("key", sa.String(length=700), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("fetched_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_analytics_cache")),
    )
    with op.batch_alter_table("analytics_cache", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_cache_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_cache_expires_at"))
    op.drop_table("analytics_cache")
    with op.batch_alter_table("post_artwork", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_artwork_post_group_id"))
    op.drop_table("post_artwork")
    op.drop_table("connections_page")
