"""List reads at scale: each group's platform set, and covering indexes for list-posts.

On PostgreSQL the indexes are built with CREATE INDEX CONCURRENTLY and the backfill runs in
batches of its own transactions, so writers are never locked out of post_group for long. On
SQLite the whole upgrade is one transaction (the file has one writer at a time anyway, and
`herald serve` migrates before it serves).

Revision ID: reads19c0ver
Revises: p14ends_a1c3e5
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reads19c0ver"
down_revision: str | None = "p14ends_a1c3e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# domain.platform.PLATFORM_BITS when this was written (stored values never change).
BITS = {
    "twitter": 1 << 0,
    "linkedin": 1 << 1,
    "instagram": 1 << 2,
    "threads": 1 << 3,
    "tiktok": 1 << 4,
    "youtube": 1 << 5,
    "facebook": 1 << 6,
    "bluesky": 1 << 7,
    "mastodon": 1 << 8,
    "telegram": 1 << 9,
    "sandbox": 1 << 10,
}
BATCH = 20_000
INDEXES = [
    index
    for column in ("created_at", "updated_at", "scheduled_at")
    for index in (
        (f"ix_post_group_by_{column}", ["account_id", column, "id", "platform_bits"]),
        (f"ix_post_group_status_{column}", ["account_id", "status", column, "id", "platform_bits"]),
    )
]
OLD_INDEXES = [
    ("ix_post_group_account_created", ["account_id", "created_at"]),
    ("ix_post_group_account_scheduled", ["account_id", "scheduled_at"]),
]

# Bits are powers of two, so the sum of the distinct bits of a group's targets is their OR
# (SQLite has no bit_or aggregate).
_CASE = " ".join(f"WHEN '{name}' THEN {bit}" for name, bit in BITS.items())
# Built from the constants above only.
FILL = sa.text(
    "UPDATE post_group SET platform_bits = COALESCE(("  # noqa: S608
    f" SELECT SUM(DISTINCT CASE t.platform {_CASE} ELSE 0 END) FROM publish_target t"
    " WHERE t.post_group_id = post_group.id), 0)"
    " WHERE post_group.id > :after AND post_group.id <= :upto AND post_group.platform_bits = 0"
)
NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM (SELECT id FROM post_group WHERE id > :after ORDER BY id LIMIT :n) AS b"
)


def _backfill() -> None:
    """In id order, BATCH groups per statement (and per transaction on PostgreSQL)."""
    bind = op.get_bind()
    after = ""
    while True:
        upto = bind.execute(NEXT_BATCH_END, {"after": after, "n": BATCH}).scalar()
        if upto is None:
            return
        bind.execute(FILL, {"after": after, "upto": upto})
        after = upto


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgres()
        return
    # A constant default: no table rewrite.
    op.add_column(
        "post_group",
        sa.Column("platform_bits", sa.Integer(), server_default="0", nullable=False),
    )
    _backfill()
    for name, columns in INDEXES:
        op.create_index(name, "post_group", columns)
    for name, _ in OLD_INDEXES:
        op.drop_index(name, table_name="post_group")


def _upgrade_postgres() -> None:
    """Every step may be run again: a run cut short is committed up to its last batch."""
    with op.get_context().autocommit_block():
        # A constant default: no table rewrite, the lock lasts an instant.
        op.execute(
            "ALTER TABLE post_group ADD COLUMN IF NOT EXISTS platform_bits INTEGER NOT NULL"
            " DEFAULT 0"
        )
        _backfill()
        for name, columns in INDEXES:
            # A failed concurrent build leaves an INVALID index behind; drop it and build again.
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.create_index(name, "post_group", columns, postgresql_concurrently=True)
        for name, _ in OLD_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        # The backfill touched every row, which clears the visibility map: until a vacuum
        # sets it again, counts read the table instead of the new indexes. VACUUM takes no
        # lock that writers wait on.
        op.execute("VACUUM (ANALYZE) post_group")


def downgrade() -> None:
    for name, columns in OLD_INDEXES:
        op.create_index(name, "post_group", columns)
    for name, _ in INDEXES:
        op.drop_index(name, table_name="post_group")
    with op.batch_alter_table("post_group", schema=None) as batch_op:
        batch_op.drop_column("platform_bits")
