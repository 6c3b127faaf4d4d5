"""Fair claiming: due targets, earliest first, but never more for one connection or account than
the worker's fair share, and none for connections it must not take more of right now."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, func, or_, select

from herald.models import Connection, PublishTarget

T = PublishTarget
WINDOW_PER_BATCH = 4  # rank this many due rows per row wanted: bounds the cost of a claim


@dataclass(frozen=True)
class ClaimLimits:
    """What one claim may take: at most `per_connection` rows of a connection and `per_account`
    of an account, none of the `skip_*` connections or accounts (already at their share, or on a
    host that is queueing calls)."""

    per_connection: int
    per_account: int
    skip_connections: frozenset[str] = field(default_factory=frozenset)
    skip_accounts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def unlimited(cls, batch: int) -> ClaimLimits:
        return cls(batch, batch)


def skipped(limits: ClaimLimits) -> list[ColumnElement[bool]]:
    """Conditions on T leaving out the connections and accounts the limits skip."""
    conditions: list[ColumnElement[bool]] = []
    # A target whose connection is gone has no account either: never skipped (it fails at once).
    if limits.skip_connections:
        skip = T.connection_id.not_in(sorted(limits.skip_connections))
        conditions.append(or_(T.connection_id.is_(None), skip))
    if limits.skip_accounts:
        of_accounts = select(Connection.id).where(
            Connection.account_id.in_(sorted(limits.skip_accounts))
        )
        conditions.append(or_(T.connection_id.is_(None), T.connection_id.not_in(of_accounts)))
    return conditions


def fair_candidates(
    due_now: list[ColumnElement[bool]], batch: int, limits: ClaimLimits
) -> Select[str]:
    """Ids of up to `batch` due targets (matching `due_now`), earliest first, within `limits`.

    The earliest due rows are ranked within their connection and their account; a row ranked past
    its limit waits for a later claim, which leaves room for other tenants' rows in this one. The
    ranking is bounded to a window of the earliest rows so that its cost does not grow with the
    backlog; rows of skipped connections are left out before the window is taken.

    When the batch fits in both limits no row can rank past them (a row's rank within its
    connection is at most its place in the batch), so the earliest rows are taken without the
    ranking: its two window sorts were the costliest part of claiming in a burst."""
    if batch <= limits.per_connection and batch <= limits.per_account:
        return select(T.id).where(*due_now, *skipped(limits)).order_by(T.due_at, T.id).limit(batch)
    window = (
        select(T.id, T.due_at, T.connection_id, Connection.account_id)
        .outerjoin(Connection, Connection.id == T.connection_id)
        .where(*due_now, *skipped(limits))
        .order_by(T.due_at, T.id)
        .limit(batch * WINDOW_PER_BATCH)
        .subquery("due")
    )
    order = (window.c.due_at, window.c.id)
    ranked = select(
        window.c.id,
        window.c.due_at,
        func.row_number()
        .over(partition_by=window.c.connection_id, order_by=order)
        .label("in_connection"),
        func.row_number()
        .over(partition_by=window.c.account_id, order_by=order)
        .label("in_account"),
    ).subquery("ranked")
    return (
        select(T.id)
        .join(ranked, ranked.c.id == T.id)
        .where(
            ranked.c.in_connection <= limits.per_connection,
            ranked.c.in_account <= limits.per_account,
        )
        .order_by(ranked.c.due_at, ranked.c.id)
        .limit(batch)
    )
