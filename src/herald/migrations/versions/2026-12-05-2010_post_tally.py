"""Kept tallies of each account's groups by (status, platform set, dated): list-posts' totals.

The backfill is one statement that adds, for each key, (groups counted) - (tally already kept)
as of its own snapshot to the tally as it is when the statement writes. Writers running the new
code keep the tally from the moment the table exists, so whatever they commit after that
snapshot is in the tally once, never twice or not at all. PostgreSQL takes no lock that writers
wait on (the count is an index-only scan; each tally row is locked for an instant). Writers
running the previous code do not keep tallies: stop them before upgrading.

Revision ID: reads20tally
Revises: reads19c0ver
Create Date: 2026-12-05 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reads20tally"
down_revision: str | None = "reads19c0ver"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "account_id, status, platform_bits, dated"
# `WHERE true`: SQLite's parser needs it before an upsert's ON CONFLICT after a SELECT.
BACKFILL = sa.text(
    f"INSERT INTO post_tally ({KEY}, n)"  # noqa: S608 (constants only)
    f" SELECT {KEY}, sum(n) FROM ("
    "  SELECT account_id, status, platform_bits, scheduled_at IS NOT NULL AS dated, count(*) AS n"
    "  FROM post_group GROUP BY account_id, status, platform_bits, scheduled_at IS NOT NULL"
    f"  UNION ALL SELECT {KEY}, -n FROM post_tally"
    f" ) AS s WHERE true GROUP BY {KEY}"
    f" ON CONFLICT ({KEY}) DO UPDATE SET n = post_tally.n + excluded.n"
)


def upgrade() -> None:
    op.create_table(
        "post_tally",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("platform_bits", sa.Integer(), nullable=False),
        sa.Column("dated", sa.Boolean(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "status", "platform_bits", "dated"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The table commits first, so writers keep it before the backfill's snapshot.
        with op.get_context().autocommit_block():
            op.execute(BACKFILL)
            op.execute("ANALYZE post_tally")
        return
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("post_tally")
