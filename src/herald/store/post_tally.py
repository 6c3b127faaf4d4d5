"""The one place that keeps the tallies of `models.post_tally`: every change of a group's tallied
columns (account, stored status, platform set, and its scheduled, created and last-updated
times) adjusts them in the same transaction.

- `post_tally` counts an account's groups by (status, platform set, dated): list-posts'
  `totalItems` without date bounds.
- `post_week_tally` counts them by (time axis, week, status, platform set): a date-bounded
  total, and the weeks a deep page can skip without walking them.
- `post_cross_tally` counts the dated ones by (created or updated week, scheduled week, status):
  where a list sorted by one time and bounded by the other starts its walk, and how many of its
  matches each week of the sort's time holds.

- Changes made through the ORM (create-post, update-post, delete-post, demotion, anything that
  adds, edits or deletes a `PostGroup`) are seen at flush (`_count_flush`). The old values come
  from the row itself, read under a row lock on PostgreSQL, not from the session's copy: the
  engine may have rewritten the status since the session loaded it.
- The engine's set-based status refresh (`store.publish_result`), which bypasses the ORM,
  reports each change it makes with `note`.
- A statement that changes those columns any other way must call `note` too, or the tallies and
  `COUNT(*)` part (the property test in `tests/api/test_post_tally.py` catches it).

Deltas wait in the session and are applied when it commits (`_apply_at_commit`), each as an
atomic `n = n + d`, so concurrent writers never lose an update. On PostgreSQL the rows a
transaction will change are first locked in key order by one statement, and new rows are
inserted in key order, so no two transactions wait on each other's tally rows in a cycle. A
rolled-back transaction drops its deltas with everything else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    Table,
    bindparam,
    cast,
    event,
    func,
    inspect,
    literal,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from herald.models import PostCrossTally, PostGroup, PostTally, PostWeekTally

G = PostGroup
_tally: Table = PostTally.__table__  # type: ignore[assignment]
_week_tally: Table = PostWeekTally.__table__  # type: ignore[assignment]
_cross_tally: Table = PostCrossTally.__table__  # type: ignore[assignment]
_PENDING = "herald.post_tally.pending"
TALLIED = ("status", "platform_bits", "scheduled_at", "created_at", "updated_at")
_EPOCH_DAY = date(1970, 1, 1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The time axes of `post_week_tally`.
SCHEDULED, CREATED, UPDATED = "s", "c", "u"


class Key(NamedTuple):
    """Where one group counts: its account, stored status, platform set, and the weeks of its
    scheduled (None when undated), created and last-updated times."""

    account_id: str
    status: str
    bits: int
    scheduled_week: int | None
    created_week: int
    updated_week: int


def week_of(moment: datetime) -> int:
    """Whole weeks since 1970-01-01 in UTC; anything earlier is week 0. The migration that
    backfilled the weeks computes the same from the stored date."""
    return max((moment.astimezone(UTC).date() - _EPOCH_DAY).days, 0) // 7


def week_start(week: int) -> datetime | None:
    """The first instant of a week; None for week 0, which also holds everything earlier."""
    return EPOCH + timedelta(days=7 * week) if week > 0 else None


def week_end(week: int) -> datetime:
    """The first instant after a week."""
    return EPOCH + timedelta(days=7 * (week + 1))


def key_of(
    account_id: str,
    status: str,
    bits: int | None,
    scheduled_at: datetime | None,
    created_at: datetime,
    updated_at: datetime,
) -> Key:
    scheduled_week = None if scheduled_at is None else week_of(scheduled_at)
    return Key(
        account_id, status, bits or 0, scheduled_week, week_of(created_at), week_of(updated_at)
    )


TallyKey = tuple[str, str, int, bool]  # account, status, platform set, dated
WeekKey = tuple[str, str, int, str, int]  # account, axis, week, status, platform set
CrossKey = tuple[str, str, int, int, str]  # account, axis, week, scheduled week, status


class _Pending:
    def __init__(self) -> None:
        self.tally: Counter[TallyKey] = Counter()
        self.weeks: Counter[WeekKey] = Counter()
        self.cross: Counter[CrossKey] = Counter()

    def add(self, key: Key, delta: int) -> None:
        account, status, bits, scheduled, created, updated = key
        self.tally[(account, status, bits, scheduled is not None)] += delta
        self.weeks[(account, CREATED, created, status, bits)] += delta
        self.weeks[(account, UPDATED, updated, status, bits)] += delta
        if scheduled is not None:
            self.weeks[(account, SCHEDULED, scheduled, status, bits)] += delta
            self.cross[(account, CREATED, created, scheduled, status)] += delta
            self.cross[(account, UPDATED, updated, scheduled, status)] += delta


def note(session: Session, old: Key | None, new: Key | None) -> None:
    """A group moved from `old` to `new` (None: it did not exist, or no longer does)."""
    if old == new:
        return
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    if old is not None:
        pending.add(old, -1)
    if new is not None:
        pending.add(new, 1)


def current_keys(ids: Iterable[str]) -> Any:
    """The stored keys of these groups, in id order, locked until commit on PostgreSQL (SQLite's
    writer already holds the whole file). Read each row with `stored_key`."""
    columns = (
        G.id,
        G.account_id,
        G.status,
        G.platform_bits,
        G.scheduled_at,
        G.created_at,
        G.updated_at,
    )
    return select(*columns).where(G.id.in_(list(ids))).order_by(G.id).with_for_update()


def stored_key(row: Sequence[Any]) -> tuple[str, Key]:
    """A row of `current_keys`: the group's id and its key."""
    group_id, *columns = row
    return group_id, key_of(*columns)


def _stored(session: Session, groups: list[PostGroup]) -> dict[str, Key]:
    if not groups:
        return {}
    return dict(stored_key(row) for row in session.execute(current_keys(g.id for g in groups)))


def _changed(group: PostGroup) -> bool:
    state = inspect(group)
    return any(state.attrs[name].history.has_changes() for name in TALLIED)


@event.listens_for(Session, "before_flush")
def _count_flush(session: Session, context: UOWTransaction, instances: Any) -> None:
    for group in session.new:
        if isinstance(group, PostGroup):
            note(session, None, _key(group))
    deleted = [g for g in session.deleted if isinstance(g, PostGroup)]
    edited = [g for g in session.dirty if isinstance(g, PostGroup) and _changed(g)]
    stored = _stored(session, sorted([*deleted, *edited], key=lambda g: g.id))
    for group in deleted:
        note(session, stored.get(group.id), None)
    for group in edited:
        # A row gone under us: the flush fails on it anyway.
        if group.id in stored:
            note(session, stored[group.id], _key(group))


def _key(group: PostGroup) -> Key:
    return key_of(
        group.account_id,
        group.status,
        group.platform_bits,
        group.scheduled_at,
        group.created_at,
        group.updated_at,
    )


@event.listens_for(Session, "before_commit")
def _apply_at_commit(session: Session) -> None:
    session.flush()  # changes still pending count too
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is not None:
        apply(session, _tally, ("account_id", "status", "platform_bits", "dated"), pending.tally)
        apply(
            session,
            _week_tally,
            ("account_id", "axis", "week", "status", "platform_bits"),
            pending.weeks,
        )
        apply(
            session,
            _cross_tally,
            ("account_id", "axis", "week", "scheduled_week", "status"),
            pending.cross,
        )


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def apply(session: Session, table: Table, names: tuple[str, ...], deltas: Counter[Any]) -> None:
    """Add each delta to its row of `table` (whose primary key is `names`); a missing row is
    made for a positive one. A negative one never makes a row: its account may be going, rows
    and all, in this very transaction. One statement per kind of change, whatever the count."""
    changes = sorted((key, delta) for key, delta in deltas.items() if delta)
    if not changes:
        return
    columns = [table.c[name] for name in names]
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Lock the rows that exist in key order first: the updates and upserts below then only
        # wait on rows being made, which every transaction makes in key order too.
        keys = [tuple(key) for key, _ in changes]
        session.execute(
            select(*columns).where(tuple_(*columns).in_(keys)).order_by(*columns).with_for_update()
        )
    params = [
        {f"k_{name}": value for name, value in zip(names, key, strict=True)} for key, _ in changes
    ]
    for param, (_, delta) in zip(params, changes, strict=True):
        param["k_delta"] = delta
    lower = [p for p in params if p["k_delta"] < 0]
    if lower:
        where = [column == bindparam(f"k_{column.name}") for column in columns]
        session.execute(
            update(table).where(*where).values(n=table.c.n + bindparam("k_delta")),
            lower,
            execution_options={"synchronize_session": False},
        )
    raise_ = [p for p in params if p["k_delta"] > 0]
    if raise_:
        dialect = postgresql if postgres else sqlite
        insert = dialect.insert(table).values(
            {**{name: bindparam(f"k_{name}") for name in names}, "n": bindparam("k_delta")}
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=columns, set_={"n": table.c.n + insert.excluded.n}
            ),
            raise_,
        )


def sum_query(account_id: str, status: str | None, bits: int | None, dated: bool | None) -> Any:
    """The number of the account's groups with this status and one of these platforms, dated
    or undated; None for any of them means any."""
    c = _tally.c
    query = select(func.coalesce(func.sum(c.n), 0)).where(c.account_id == account_id)
    if status is not None:
        query = query.where(c.status == status)
    if bits is not None:
        query = query.where(c.platform_bits.op("&")(bits) != 0)
    if dated is not None:
        query = query.where(c.dated == dated)
    return query


def weeks_query(
    account_id: str,
    axis: str,
    status: str | None,
    bits: int | None,
    first: int | None,
    last: int | None,
    descending: bool,
) -> Any:
    """(week, groups) on one axis for the account's groups with this status and one of these
    platforms, weeks `first` to `last` (inclusive; None: unbounded), in time order; weeks with
    none left out."""
    c = _week_tally.c
    total = func.sum(c.n)
    query = select(c.week, total).where(c.account_id == account_id, c.axis == axis)
    if status is not None:
        query = query.where(c.status == status)
    if bits is not None:
        query = query.where(c.platform_bits.op("&")(bits) != 0)
    if first is not None:
        query = query.where(c.week >= first)
    if last is not None:
        query = query.where(c.week <= last)
    order = c.week.desc() if descending else c.week.asc()
    return query.group_by(c.week).having(total != 0).order_by(order)


def _cross_weeks(
    account_id: str, axis: str, status: str | None, first: int | None, last: int | None
) -> Any:
    c = _cross_tally.c
    query = select(c.week, func.sum(c.n).label("n")).where(
        c.account_id == account_id, c.axis == axis
    )
    if status is not None:
        query = query.where(c.status == status)
    if first is not None:
        query = query.where(c.scheduled_week >= first)
    if last is not None:
        query = query.where(c.scheduled_week <= last)
    return query.group_by(c.week).having(func.sum(c.n) != 0)


def reach_query(
    account_id: str, axis: str, status: str | None, first: int | None, last: int | None
) -> Any:
    """(first, last) week on one axis (created or updated) that holds any of the account's
    groups with this status scheduled in weeks `first` to `last` (inclusive; None: unbounded);
    (None, None) when no week does."""
    weeks = _cross_weeks(account_id, axis, status, first, last).subquery()
    return select(func.min(weeks.c.week), func.max(weeks.c.week))


def cross_weeks_query(
    account_id: str, axis: str, status: str | None, first: int | None, last: int | None
) -> Any:
    """(week, groups) on one axis (created or updated) for the account's groups with this
    status scheduled in weeks `first` to `last` (inclusive; None: unbounded), in week order."""
    return _cross_weeks(account_id, axis, status, first, last).order_by(_cross_tally.c.week)


def week_sql(column: Any, dialect: str) -> Any:
    """`week_of` computed by the database from a stored time, as the migration that filled the
    tallies computed it: from the stored date's text on SQLite, the UTC date on PostgreSQL."""
    if dialect == "postgresql":
        day = func.timezone("UTC", column).cast(Date) - literal(date(1970, 1, 1), Date)
        return type_coerce(func.greatest(day, 0), Integer) // 7
    days = cast(func.julianday(func.substr(column, 1, 10)) - 2440587.5, Integer)
    return type_coerce(func.max(days, 0), Integer) // 7
