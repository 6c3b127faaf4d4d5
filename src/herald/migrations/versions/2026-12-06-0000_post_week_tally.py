"""Kept tallies of each account's groups by (time axis, week, status, platform set): date-bounded
totals and deep pages of list-posts without a walk over every matching group.

The backfill is the one statement `reads20tally` uses, by week: it adds, for each key, (groups
counted) - (tally already kept) as of its own snapshot, so whatever writers running the new code
commit after the table exists is counted once. A week is whole days since 1970-01-01 in UTC,
divided by 7 (`store.post_tally.week_of`), read from the stored date: on SQLite the first ten
characters of the stored text, on PostgreSQL the UTC date. Writers running the previous code do
not keep these tallies: stop them before upgrading.

Revision ID: reads21weeks
Revises: dash01signin
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reads21weeks"
down_revision: str | None = "dash01signin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "account_id, axis, week, status, platform_bits"


def _week(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"GREATEST(({column} AT TIME ZONE 'UTC')::date - DATE '1970-01-01', 0) / 7"
    return f"max(CAST(julianday(substr({column}, 1, 10)) - 2440587.5 AS INTEGER), 0) / 7"


def backfill(dialect: str) -> sa.TextClause:
    counts = [
        f"SELECT account_id, '{axis}' AS axis, {_week(column, dialect)} AS week, status,"  # noqa: S608
        f" platform_bits, count(*) AS n FROM post_group {where}"
        " GROUP BY account_id, 3, status, platform_bits"
        for axis, column, where in (
            ("c", "created_at", ""),
            ("u", "updated_at", ""),
            ("s", "scheduled_at", "WHERE scheduled_at IS NOT NULL"),
        )
    ]
    # `WHERE true`: SQLite's parser needs it before an upsert's ON CONFLICT after a SELECT.
    unions = " UNION ALL ".join([*counts, f"SELECT {KEY}, -n FROM post_week_tally"])  # noqa: S608
    statement = (
        f"INSERT INTO post_week_tally ({KEY}, n) SELECT {KEY}, sum(n) FROM ({unions}) AS s"  # noqa: S608
        f" WHERE true GROUP BY {KEY} HAVING sum(n) <> 0"
        f" ON CONFLICT ({KEY}) DO UPDATE SET n = post_week_tally.n + excluded.n"
    )
    return sa.text(statement)


def upgrade() -> None:
    op.create_table(
        "post_week_tally",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("axis", sa.String(length=1), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("platform_bits", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "axis", "week", "status", "platform_bits"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # The table commits first, so writers keep it before the backfill's snapshot.
        with op.get_context().autocommit_block():
            op.execute(backfill(dialect))
            op.execute("ANALYZE post_week_tally")
        return
    op.execute(backfill(dialect))


def downgrade() -> None:
    op.drop_table("post_week_tally")
