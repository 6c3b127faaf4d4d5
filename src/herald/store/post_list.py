"""list-posts and the calendar: pages of an account's groups read from the covering indexes.

Each sort has an index in its order that carries every filtered column (`models.post`), so a
count and an offset walk index entries only; the groups of the page are loaded afterwards by
id. Two things keep the walks short and the indexes usable on both databases:
- a list sorted by a column with NULLs (scheduledTime: undated drafts go last in both
  directions) is read as two segments, dated then undated, each in plain index order;
- a list bounded by scheduled time but sorted by another starts and ends its walk at the
  first and last week of that time that can hold a match (`post_cross_tally`);
- a deep page skips whole weeks of its sort's time axis by their kept tallies
  (`post_week_tally`) and walks the index only inside the week it lands in; a page that the
  tallies cannot place (the undated drafts, or a date bound on another axis than the sort's)
  is taken from whichever end of its segment is nearer, so it walks at most half of what
  matches.
`totalItems` without date bounds is a sum over the kept tallies (`store.post_tally`), not a walk;
with date bounds it sums the weeks between the bounds and counts only the two edge weeks from
the index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db.types import UTCDateTime
from herald.domain.platform import prefix_bits
from herald.models import PostGroup
from herald.store.post_tally import (
    CREATED,
    SCHEDULED,
    UPDATED,
    cross_weeks_query,
    reach_query,
    sum_query,
    week_end,
    week_of,
    week_sql,
    week_start,
    weeks_query,
)

G = PostGroup
# SQLite's planner, given a bound on scheduled_at and another sort, ranges over the scheduled
# time index and sorts every match (half a million at a year's bound). A unary `+` keeps the
# bound off that index, so the page walks the sort's index and stops at the page; the count
# still ranges over the scheduled time index.
_UNINDEXED_SCHEDULED_AT = type_coerce(literal_column("+post_group.scheduled_at"), UTCDateTime())
_SORT_COLUMNS: dict[str, Any] = {
    "createdAt": G.created_at,
    "updatedAt": G.updated_at,
    "scheduledTime": G.scheduled_at,
}
_AXES = {"createdAt": CREATED, "updatedAt": UPDATED, "scheduledTime": SCHEDULED}
_SORT_COLUMNS_BY_AXIS = {_AXES[name]: column for name, column in _SORT_COLUMNS.items()}
# A page this close to either end of its segment is walked from the index: about what walking
# into one week costs at a million groups over three years.
WALK_LIMIT = 5_000
Weeks = list[tuple[int, int]]  # (week, matching groups), in time order


@dataclass(frozen=True)
class ListFilter:
    account_id: str
    status: str | None = None
    platform_prefix: str | None = None
    scheduled_from: datetime | None = None  # inclusive
    scheduled_to: datetime | None = None  # inclusive

    def conditions(self, scheduled: Any = G.scheduled_at) -> list[ColumnElement[bool]] | None:
        """None when nothing can match (a platform prefix that names no platform).
        `scheduled` is what the date bounds compare (see `_UNINDEXED_SCHEDULED_AT`)."""
        where: list[ColumnElement[bool]] = [G.account_id == self.account_id]
        if self.status is not None:
            where.append(G.status == self.status)
        if self.platform_prefix is not None:
            bits = prefix_bits(self.platform_prefix)
            if not bits:
                return None
            where.append(G.platform_bits.op("&")(bits) != 0)
        # A bound excludes groups with no time at all (undated drafts), DESIGN §3.8.
        if self.scheduled_from is not None:
            where.append(scheduled >= self.scheduled_from)
        if self.scheduled_to is not None:
            where.append(scheduled <= self.scheduled_to)
        return where

    @property
    def dated_only(self) -> bool:
        return self.scheduled_from is not None or self.scheduled_to is not None


@dataclass(frozen=True)
class _Segment:
    """Rows matching `where`, in a total order an index gives in either direction."""

    where: list[ColumnElement[bool]]
    keys: tuple[Any, ...]  # ascending
    dated: bool | None = None  # only groups with a time (True) or without (False)
    axis: str | None = None  # the week tallies' axis of keys[0], when it is a time
    # First and last week of keys[0] that can hold a match, when known (see `_reach`).
    span: tuple[int | None, int | None] = (None, None)

    def within(self, first: int | None, last: int | None) -> list[ColumnElement[bool]]:
        """`where`, with keys[0] kept to weeks `first` to `last` and to the span: one lower
        and one upper bound, so the planner ranges over the sort's index with both."""
        first = _later(first, self.span[0])
        last = _earlier(last, self.span[1])
        column = self.keys[0]
        start = None if first is None else week_start(first)
        bounds = [] if start is None else [column >= start]
        if last is not None:
            bounds.append(column < week_end(last))
        return [*self.where, *bounds]

    def order(self, descending: bool) -> list[Any]:
        return [key.desc() if descending else key.asc() for key in self.keys]


def _segments(where: list[ColumnElement[bool]], sort_by: str, dated_only: bool) -> list[_Segment]:
    column, axis = _SORT_COLUMNS[sort_by], _AXES[sort_by]
    if sort_by != "scheduledTime" or dated_only:
        return [_Segment(where, (column, G.id), axis=axis)]
    # NULLs last in both directions; no single index order gives that on both databases.
    dated = _Segment([*where, column.is_not(None)], (column, G.id), dated=True, axis=axis)
    undated = _Segment([*where, column.is_(None)], (G.id,), dated=False)
    return [dated, undated]


class PostListReader:
    def __init__(self, session: AsyncSession, walk_limit: int = WALK_LIMIT) -> None:
        self._session = session
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        self._walk_limit = walk_limit

    async def page(
        self, filters: ListFilter, sort_by: str, descending: bool, page: int, limit: int
    ) -> tuple[Sequence[PostGroup], int]:
        """One page in a stable order (ties broken by id) and the exact total across pages."""
        ids, total = await self.page_ids(filters, sort_by, descending, page, limit)
        return await self.groups(ids), total

    async def page_ids(
        self, filters: ListFilter, sort_by: str, descending: bool, page: int, limit: int
    ) -> tuple[list[str], int]:
        """The ids of `page`'s groups in order, and the exact total across pages."""
        where = filters.conditions()
        if where is None:
            return [], 0
        segments = _segments(where, sort_by, filters.dated_only)
        # With date bounds: one segment, its weeks on the scheduled axis known exactly.
        bounded = await self._scheduled_weeks(filters, where) if filters.dated_only else None
        if bounded is not None:
            counts = [sum(n for _, n in bounded)]
        else:
            counts = [await self._tallied(filters, segment.dated) for segment in segments]
        cross = filters.dated_only and sort_by != "scheduledTime"
        if cross:
            walk = (filters.conditions(_UNINDEXED_SCHEDULED_AT) or []) if self._sqlite else where
            segments = _segments(walk, sort_by, True)
        total = sum(counts)
        # A page past the last starts at the end: the offset then fits a 64-bit integer however
        # large the requested page number is, and the page is empty.
        skip = min((page - 1) * limit, total)
        ids: list[str] = []
        for segment, count in zip(segments, counts, strict=True):
            if skip >= count:
                skip -= count
                continue
            take = min(limit - len(ids), count - skip)
            near_an_end = min(skip, count - skip - take) <= self._walk_limit
            weeks = None if near_an_end else await self._weeks(filters, segment, bounded)
            if weeks:
                # The weeks holding matches are known: they bound the walk as `_reach` would.
                segment = replace(segment, span=(weeks[0][0], weeks[-1][0]))
                ids.extend(await self._ids_in_week(segment, weeks, descending, skip, take))
            else:
                if cross:
                    segment = replace(segment, span=await self._reach(filters, sort_by))
                ids.extend(await self._walked_ids(segment, descending, skip, take, count))
            skip = 0
            if len(ids) == limit:
                break
        return ids, total

    async def _count(self, where: list[ColumnElement[bool]]) -> int:
        query = select(func.count()).select_from(G).where(*where)
        return int(await self._session.scalar(query) or 0)

    async def _tallied(self, filters: ListFilter, dated: bool | None) -> int:
        """The kept tally (`store.post_tally`): a sum of a few rows, equal to `_count`'s walk
        over the index for every filter without date bounds."""
        query = sum_query(filters.account_id, filters.status, _bits(filters), dated)
        return int(await self._session.scalar(query) or 0)

    async def _tallied_weeks(
        self, filters: ListFilter, axis: str, first: int | None, last: int | None
    ) -> Weeks:
        query = weeks_query(
            filters.account_id, axis, filters.status, _bits(filters), first, last, False
        )
        return [(week, int(n)) for week, n in await self._session.execute(query)]

    async def _scheduled_weeks(
        self, filters: ListFilter, where: list[ColumnElement[bool]]
    ) -> Weeks:
        """The groups between the date bounds by week of their scheduled time: the weeks
        strictly inside from the tallies; each edge week, which a bound cuts, counted from the
        index on whichever side of the bound is shorter (the other side is the week's tally
        less that count)."""
        low, high = filters.scheduled_from, filters.scheduled_to
        first = None if low is None else week_of(low)
        last = None if high is None else week_of(high)
        if first is not None and first == last:
            return [(first, await self._count(where))]
        tallied = dict(await self._tallied_weeks(filters, SCHEDULED, first, last))
        unbounded = ListFilter(filters.account_id, filters.status, filters.platform_prefix)
        plain = unbounded.conditions() or []
        if low is not None and first is not None:
            tallied[first] = await self._edge(plain, tallied.get(first, 0), first, low, True)
        if high is not None and last is not None:
            tallied[last] = await self._edge(plain, tallied.get(last, 0), last, high, False)
        return [(week, n) for week, n in sorted(tallied.items()) if n]

    async def _edge(
        self,
        plain: list[ColumnElement[bool]],
        week_total: int,
        week: int,
        bound: datetime,
        keep_later: bool,
    ) -> int:
        """The matches of a week at or after `bound` (`keep_later`), or at or before it:
        counted, or the week's total less the other side counted, whichever side is shorter in
        time (so, roughly, in index entries to walk)."""
        start, end = week_start(week), week_end(week)
        column = G.scheduled_at
        in_week = [*([] if start is None else [column >= start]), column < end]
        inside = column >= bound if keep_later else column <= bound
        outside = column < bound if keep_later else column > bound
        if start is not None:
            later, earlier = end - bound, bound - start
            inside_span, outside_span = (later, earlier) if keep_later else (earlier, later)
            if outside_span < inside_span:
                return week_total - await self._count([*plain, *in_week, outside])
        return await self._count([*plain, *in_week, inside])

    async def _reach(self, filters: ListFilter, sort_by: str) -> tuple[int | None, int | None]:
        """The first and last week of the sort's time holding any group with the filter's
        status scheduled in the weeks of the date bounds (`post_cross_tally`): no match lies
        outside them. Without them a page sorted by creation but bounded by schedule walks every
        group created after the newest match (a third of the history for `toDate` a year
        ago)."""
        low, high = filters.scheduled_from, filters.scheduled_to
        query = reach_query(
            filters.account_id,
            _AXES[sort_by],
            filters.status,
            None if low is None else week_of(low),
            None if high is None else week_of(high),
        )
        first, last = (await self._session.execute(query)).one()
        return (None, None) if first is None or last is None else (int(first), int(last))

    async def _weeks(
        self, filters: ListFilter, segment: _Segment, bounded: Weeks | None
    ) -> Weeks | None:
        """The segment's matches by week of its sort's time, or None when the tallies cannot
        tell them: no time to sort by (undated drafts), or date bounds on another axis."""
        if segment.axis is None:
            return None
        if not filters.dated_only:
            return await self._tallied_weeks(filters, segment.axis, None, None)
        if segment.axis == SCHEDULED:
            return bounded
        if filters.platform_prefix is not None:
            return None  # the cross tallies leave platforms out
        return await self._cross_weeks(filters, segment.axis)

    async def _cross_weeks(self, filters: ListFilter, axis: str) -> Weeks:
        """The groups between the date bounds (on the scheduled time) by week of their created
        or updated time: those scheduled in the weeks strictly inside the bounds from the cross
        tallies, those in the two edge weeks, which the bounds cut, counted from the index and
        grouped by week in the database."""
        low, high = filters.scheduled_from, filters.scheduled_to
        first = None if low is None else week_of(low)
        last = None if high is None else week_of(high)
        inner_first = None if first is None else first + 1
        inner_last = None if last is None else last - 1
        weeks: Counter[int] = Counter()
        if first is None or last is None or first < last:
            query = cross_weeks_query(
                filters.account_id, axis, filters.status, inner_first, inner_last
            )
            weeks.update({week: int(n) for week, n in await self._session.execute(query)})
        where = filters.conditions() or []
        column = G.scheduled_at
        edges: list[ColumnElement[bool]] = []
        if first is not None and first == last:
            edges = [true()]
        else:
            if first is not None:
                edges.append(column < week_end(first))
            if last is not None:
                start = week_start(last)
                edges.append(true() if start is None else column >= start)
        if edges:
            dialect = self._session.get_bind().dialect.name
            week = week_sql(_SORT_COLUMNS_BY_AXIS[axis], dialect).label("week")
            query = select(week, func.count()).where(*where, or_(*edges)).group_by(week)
            weeks.update({int(w): int(n) for w, n in await self._session.execute(query)})
        return [(week, n) for week, n in sorted(weeks.items()) if n]

    async def _ids_in_week(
        self, segment: _Segment, weeks: Weeks, descending: bool, skip: int, take: int
    ) -> list[str]:
        """The page that starts `skip` matches into the segment: the weeks before the one it
        starts in are skipped by their counts, and only that week is walked."""
        ordered = reversed(weeks) if descending else weeks
        for week, n in ordered:  # noqa: B007 (the week the loop stops at is the page's)
            if skip < n:
                break
            skip -= n
        else:  # the counts and the segment disagree: never with kept tallies
            return []
        where = segment.within(None, week) if descending else segment.within(week, None)
        query = (
            select(G.id).where(*where).order_by(*segment.order(descending)).offset(skip).limit(take)
        )
        return list((await self._session.scalars(query)).all())

    async def _walked_ids(
        self, segment: _Segment, descending: bool, skip: int, take: int, count: int
    ) -> list[str]:
        from_end = count - skip - take
        backwards = from_end < skip
        query = (
            select(G.id)
            .where(*segment.within(None, None))
            .order_by(*segment.order(descending != backwards))
            .offset(from_end if backwards else skip)
            .limit(take)
        )
        ids = list((await self._session.scalars(query)).all())
        return ids[::-1] if backwards else ids

    async def groups(self, ids: Sequence[str]) -> list[PostGroup]:
        """The groups (targets loaded) in the order of `ids`."""
        if not ids:
            return []
        found = {g.id: g for g in await self._session.scalars(select(G).where(G.id.in_(ids)))}
        return [found[group_id] for group_id in ids if group_id in found]

    async def calendar_ids(
        self,
        account_id: str,
        start: datetime,
        end: datetime,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[str]:
        """Groups scheduled in [start, end), by time then id, after the (time, id) cursor."""
        where = [G.account_id == account_id, G.scheduled_at >= start, G.scheduled_at < end]
        if after is not None:
            where.append(tuple_(G.scheduled_at, G.id) > tuple_(*after))
        query = select(G.id).where(*where).order_by(G.scheduled_at, G.id).limit(limit)
        return list((await self._session.scalars(query)).all())


def _bits(filters: ListFilter) -> int | None:
    return None if filters.platform_prefix is None else prefix_bits(filters.platform_prefix)


def _later(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)
