"""Initial schema: accounts, keys, connections, post groups, targets, attempts, media.

Revision ID: 94e31f554596
Revises:
Create Date: 2026-11-29 16:09:29.765264
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.db.types

revision: str = "94e31f554596"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("is_workspace", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.String(length=24), nullable=True),
        sa.Column("created_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["account.id"],
            name=op.f("fk_account_parent_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("parent_id", "email", name=op.f("uq_account_parent_id")),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "api_key",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_api_key_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_account_id"), ["account_id"], unique=False)

    op.create_table(
        "connection",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("profile_image_url", sa.String(length=2048), nullable=False),
        sa.Column("profile_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "access_token_expires_at", herald.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_connection_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection")),
        sa.UniqueConstraint(
            "account_id", "platform", "external_id", name=op.f("uq_connection_account_id")
        ),
    )
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connection_account_id"), ["account_id"], unique=False)

    op.create_table(
        "post_group",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("platform_settings", sa.JSON(), nullable=False),
        sa.Column("alt_texts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("scheduled_at", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_post_group_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_group")),
    )
    with op.batch_alter_table("post_group", schema=None) as batch_op:
        batch_op.create_index(
            "ix_post_group_account_created", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_post_group_account_scheduled", ["account_id", "scheduled_at"], unique=False
        )

    op.create_table(
        "rate_limit_window",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_rate_limit_window_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "window_start", name=op.f("pk_rate_limit_window")),
    )
    op.create_table(
        "media",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("post_group_id", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column("public_url", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_group_id"],
            ["post_group.id"],
            name=op.f("fk_media_post_group_id_post_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_post_group_id"), ["post_group_id"], unique=False)

    op.create_table(
        "publish_target",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("post_group_id", sa.String(length=24), nullable=False),
        sa.Column("connection_id", sa.String(length=24), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_account_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("thread_parts", sa.JSON(), nullable=False),
        sa.Column("due_at", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expire_at", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_until", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_sent_at", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("in_doubt_since", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.Column("external_url", sa.String(length=2048), nullable=True),
        sa.Column("published_at", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_code", sa.String(length=64), nullable=True),
        sa.Column("updated_at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_publish_target_connection_id_connection"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_group_id"],
            ["post_group.id"],
            name=op.f("fk_publish_target_post_group_id_post_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_target")),
    )
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publish_target_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            "ix_publish_target_due",
            ["due_at", "id"],
            unique=False,
            postgresql_where=sa.text("state = 'scheduled'"),
            sqlite_where=sa.text("state = 'scheduled'"),
        )
        batch_op.create_index(
            "ix_publish_target_lease",
            ["lease_until"],
            unique=False,
            postgresql_where=sa.text("state IN ('publishing', 'reconciling')"),
            sqlite_where=sa.text("state IN ('publishing', 'reconciling')"),
        )
        batch_op.create_index(
            batch_op.f("ix_publish_target_post_group_id"), ["post_group_id"], unique=False
        )

    op.create_table(
        "publish_attempt",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("target_id", sa.String(length=24), nullable=False),
        sa.Column("claim_token", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sent_at", herald.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", herald.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["publish_target.id"],
            name=op.f("fk_publish_attempt_target_id_publish_target"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_attempt")),
    )
    with op.batch_alter_table("publish_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publish_attempt_target_id"), ["target_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("publish_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publish_attempt_target_id"))

    op.drop_table("publish_attempt")
    with op.batch_alter_table("publish_target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publish_target_post_group_id"))
        batch_op.drop_index(
            "ix_publish_target_lease",
            postgresql_where=sa.text("state IN ('publishing', 'reconciling')"),
            sqlite_where=sa.text("state IN ('publishing', 'reconciling')"),
        )
        batch_op.drop_index(
            "ix_publish_target_due",
            postgresql_where=sa.text("state = 'scheduled'"),
            sqlite_where=sa.text("state = 'scheduled'"),
        )
        batch_op.drop_index(batch_op.f("ix_publish_target_connection_id"))

    op.drop_table("publish_target")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_post_group_id"))

    op.drop_table("media")
    op.drop_table("rate_limit_window")
    with op.batch_alter_table("post_group", schema=None) as batch_op:
        batch_op.drop_index("ix_post_group_account_scheduled")
        batch_op.drop_index("ix_post_group_account_created")

    op.drop_table("post_group")
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connection_account_id"))

    op.drop_table("connection")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_account_id"))

    op.drop_table("api_key")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_parent_id"))

    op.drop_table("account")
