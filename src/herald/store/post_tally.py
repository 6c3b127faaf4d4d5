"""The one place that keeps `post_tally`: every change of a group's tallied columns (account,
stored status, platform set, whether it has a time) adjusts it in the same transaction.

- Changes made through the ORM (create-post, update-post, delete-post, demotion, anything that
  adds, edits or deletes a `PostGroup`) are seen at flush (`_count_flush`). The old values come
  from the row itself, read under a row lock on PostgreSQL, not from the session's copy: the
  engine may have rewritten the status since the session loaded it.
- The engine's set-based status refresh (`store.publish_result`), which bypasses the ORM,
  reports each change it makes with `note`.
- A statement that changes those columns any other way must call `note` too, or the tally and
  `COUNT(*)` part (the property test in `tests/db/test_post_tally.py` catches it).

Deltas wait in the session and are applied when it commits (`_apply_at_commit`), in key order,
each as one atomic `n = n + d`: concurrent writers never lose an update, and since every
transaction takes its tally rows last and in the same order, none waits on another's in a
cycle. A rolled-back transaction drops its deltas with everything else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, event, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql.elements import ColumnElement

from herald.models import PostGroup, PostTally

G = PostGroup
_tally: Table = PostTally.__table__  # type: ignore[assignment]
_PENDING = "herald.post_tally.pending"
TALLIED = ("status", "platform_bits", "scheduled_at")
Key = tuple[str, str, int, bool]  # account, status, platform set, dated


def key_of(account_id: str, status: str, bits: int | None, scheduled_at: datetime | None) -> Key:
    return (account_id, status, bits or 0, scheduled_at is not None)


def note(session: Session, old: Key | None, new: Key | None) -> None:
    """A group moved from `old` to `new` (None: it did not exist, or no longer does)."""
    if old == new:
        return
    pending: Counter[Key] = session.info.setdefault(_PENDING, Counter())
    if old is not None:
        pending[old] -= 1
    if new is not None:
        pending[new] += 1


def current_keys(ids: Iterable[str]) -> Any:
    """The stored keys of these groups, in id order, locked until commit on PostgreSQL (SQLite's
    writer already holds the whole file)."""
    columns = (G.id, G.account_id, G.status, G.platform_bits, G.scheduled_at.is_not(None))
    return select(*columns).where(G.id.in_(list(ids))).order_by(G.id).with_for_update()


def _stored(session: Session, groups: list[PostGroup]) -> dict[str, Key]:
    if not groups:
        return {}
    rows = session.execute(current_keys(g.id for g in groups))
    return {gid: (account, status, bits, dated) for gid, account, status, bits, dated in rows}


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
    return key_of(group.account_id, group.status, group.platform_bits, group.scheduled_at)


@event.listens_for(Session, "before_commit")
def _apply_at_commit(session: Session) -> None:
    session.flush()  # changes still pending count too
    pending: Counter[Key] | None = session.info.pop(_PENDING, None)
    if pending:
        apply(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _where(key: Key) -> list[ColumnElement[bool]]:
    account_id, status, bits, dated = key
    c = _tally.c
    return [
        c.account_id == account_id,
        c.status == status,
        c.platform_bits == bits,
        c.dated == dated,
    ]


def apply(session: Session, deltas: Counter[Key]) -> None:
    """Add each delta to its row in key order; a missing row is made for a positive one. A
    negative one never makes a row: its account may be going, rows and all, in this very
    transaction."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for key in sorted(deltas):
        delta = deltas[key]
        if delta < 0:
            session.execute(update(_tally).where(*_where(key)).values(n=_tally.c.n + delta))
        elif delta > 0:
            account_id, status, bits, dated = key
            insert = dialect.insert(_tally).values(
                account_id=account_id, status=status, platform_bits=bits, dated=dated, n=delta
            )
            session.execute(
                insert.on_conflict_do_update(
                    index_elements=list(_tally.primary_key.columns),
                    set_={"n": _tally.c.n + insert.excluded.n},
                )
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
