"""list-posts and the calendar: pages of an account's groups read from the covering indexes.

Each sort has an index in its order that carries every filtered column (`models.post`), so a
count and an offset walk index entries only; the groups of the page are loaded afterwards by
id. Two things keep the walks short and the indexes usable on both databases:
- a list sorted by a column with NULLs (scheduledTime: undated drafts go last in both
  directions) is read as two segments, dated then undated, each in plain index order;
- an offset past the middle of a segment is taken from its other end, in reverse order, so no
  page walks more than half of what matches.
`totalItems` without date bounds is a sum over the kept tallies (`store.post_tally`), not a walk;
with date bounds it is counted from the index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select, tuple_, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db.types import UTCDateTime
from herald.domain.platform import prefix_bits
from herald.models import PostGroup
from herald.store.post_tally import sum_query

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

    def order(self, descending: bool) -> list[Any]:
        return [key.desc() if descending else key.asc() for key in self.keys]


def _segments(where: list[ColumnElement[bool]], sort_by: str, dated_only: bool) -> list[_Segment]:
    column = _SORT_COLUMNS[sort_by]
    if sort_by != "scheduledTime" or dated_only:
        return [_Segment(where, (column, G.id))]
    # NULLs last in both directions; no single index order gives that on both databases.
    dated = _Segment([*where, column.is_not(None)], (column, G.id), dated=True)
    undated = _Segment([*where, column.is_(None)], (G.id,), dated=False)
    return [dated, undated]


class PostListReader:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._sqlite = session.get_bind().dialect.name == "sqlite"

    async def page(
        self, filters: ListFilter, sort_by: str, descending: bool, page: int, limit: int
    ) -> tuple[Sequence[PostGroup], int]:
        """One page in a stable order (ties broken by id) and the exact total across pages."""
        where = filters.conditions()
        if where is None:
            return [], 0
        segments = _segments(where, sort_by, filters.dated_only)
        if filters.dated_only:
            counts = [await self._count(segment) for segment in segments]
        else:
            counts = [await self._tallied(filters, segment.dated) for segment in segments]
        if filters.dated_only and sort_by != "scheduledTime" and self._sqlite:
            walk = filters.conditions(_UNINDEXED_SCHEDULED_AT) or []
            segments = _segments(walk, sort_by, filters.dated_only)
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
            ids.extend(await self._ids(segment, descending, skip, take, count))
            skip = 0
            if len(ids) == limit:
                break
        return await self.groups(ids), total

    async def _count(self, segment: _Segment) -> int:
        query = select(func.count()).select_from(G).where(*segment.where)
        return int(await self._session.scalar(query) or 0)

    async def _tallied(self, filters: ListFilter, dated: bool | None) -> int:
        """The kept tally (`store.post_tally`): a sum of a few rows, equal to `_count`'s walk
        over the index for every filter without date bounds."""
        bits = None if filters.platform_prefix is None else prefix_bits(filters.platform_prefix)
        query = sum_query(filters.account_id, filters.status, bits, dated)
        return int(await self._session.scalar(query) or 0)

    async def _ids(
        self, segment: _Segment, descending: bool, skip: int, take: int, count: int
    ) -> list[str]:
        from_end = count - skip - take
        backwards = from_end < skip
        query = (
            select(G.id)
            .where(*segment.where)
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
