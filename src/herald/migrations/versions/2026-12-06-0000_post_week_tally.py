"""Kept tallies of each account's groups by week: by (time axis, week, status, platform set) for
date-bounded totals and deep pages, and by (created or updated week, scheduled week, status) for
lists sorted by one time and bounded by the other.

Each backfill is the one statement `reads20tally` uses: it adds, for each key, (groups counted)
- (tally already kept) as of its own snapshot, so whatever writers running the new code commit
after the tables exist is counted once. A week is whole days since 1970-01-01 in UTC, divided by
7 (`store.post_tally.week_of`), read from the stored date: on SQLite the first ten characters of
the stored text, on PostgreSQL the UTC date. Writers running the previous code do not keep these
tallies: stop them before upgrading.

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

WEEK_KEY = "account_id, axis, week, status, platform_bits"
CROSS_KEY = "account_id, axis, week, scheduled_week, status"


def _week(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"GREATEST(({column} AT TIME ZONE 'UTC')::date - DATE '1970-01-01', 0) / 7"
    return f"max(CAST(julianday(substr({column}, 1, 10)) - 2440587.5 AS INTEGER), 0) / 7"


def _add_counts(table: str, key: str, counts: list[str]) -> sa.TextClause:
    """Adds (groups counted) - (tally kept) to each row of `table`, keyed by `key`."""
    unions = " UNION ALL ".join([*counts, f"SELECT {key}, -n FROM {table}"])  # noqa: S608
    # `WHERE true`: SQLite's parser needs it before an upsert's ON CONFLICT after a SELECT.
    return sa.text(
        f"INSERT INTO {table} ({key}, n) SELECT {key}, sum(n) FROM ({unions}) AS s"  # noqa: S608
        f" WHERE true GROUP BY {key} HAVING sum(n) <> 0"
        f" ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n"
    )


def backfill_weeks(dialect: str) -> sa.TextClause:
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
    return _add_counts("post_week_tally", WEEK_KEY, counts)


def backfill_cross(dialect: str) -> sa.TextClause:
    scheduled = _week("scheduled_at", dialect)
    counts = [
        f"SELECT account_id, '{axis}' AS axis, {_week(column, dialect)} AS week,"  # noqa: S608
        f" {scheduled} AS scheduled_week, status, count(*) AS n"
        " FROM post_group WHERE scheduled_at IS NOT NULL GROUP BY account_id, 3, 4, status"
        for axis, column in (("c", "created_at"), ("u", "updated_at"))
    ]
    return _add_counts("post_cross_tally", CROSS_KEY, counts)


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
    op.create_table(
        "post_cross_tally",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("axis", sa.String(length=1), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("scheduled_week", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "axis", "week", "scheduled_week", "status"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # The tables commit first, so writers keep them before the backfills' snapshots.
        with op.get_context().autocommit_block():
            op.execute(backfill_weeks(dialect))
            op.execute(backfill_cross(dialect))
            op.execute("ANALYZE post_week_tally")
            op.execute("ANALYZE post_cross_tally")
        return
    op.execute(backfill_weeks(dialect))
    op.execute(backfill_cross(dialect))


def downgrade() -> None:
    op.drop_table("post_cross_tally")
    op.drop_table("post_week_tally")
