"""list-posts' index reads and the calendar range against a brute-force computation over the same
rows: every filter, sort, direction and page, on both databases."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from herald.domain.ids import new_id
from herald.domain.platform import platform_bits
from herald.models import PostGroup, PostWeekTally, PublishTarget
from herald.services.post_list import calendar_range
from herald.store.post import PostListQuery, PostStore
from herald.store.post_list import ListFilter, PostListReader
from support import LiveServer, Tenant, create_post

T0 = datetime(2031, 3, 1, tzinfo=UTC)
STATUSES = ("draft", "scheduled", "published", "failed", "partially_published")
PLATFORMS = ("sandbox", "bluesky", "mastodon", "telegram", "twitter", "threads")
SORTS = {"createdAt": "created_at", "updatedAt": "updated_at", "scheduledTime": "scheduled_at"}


@dataclass(frozen=True)
class Row:
    id: str
    status: str
    platforms: tuple[str, ...]
    scheduled_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _rows(count: int) -> list[Row]:
    """Few distinct times, so ties (broken by id) are common; a third undated."""
    rng = random.Random(19)
    rows = []
    for _ in range(count):
        when = rng.choice([None, *[T0 + timedelta(hours=h) for h in range(6)]])
        platforms = tuple(sorted(set(rng.choices(PLATFORMS, k=rng.randint(1, 3)))))
        rows.append(
            Row(
                new_id(),
                rng.choice(STATUSES),
                platforms,
                when,
                T0 - timedelta(minutes=rng.randint(0, 4)),
                T0 + timedelta(minutes=rng.randint(0, 4)),
            )
        )
    return rows


def _stage(server: LiveServer, account_id: str, rows: list[Row]) -> None:
    """The rows as create-post and the engine leave them, platform set included."""

    async def work(session: Any) -> None:
        for row in rows:
            targets = [
                PublishTarget(
                    id=new_id(),
                    platform=platform,
                    external_account_id="x",
                    position=position,
                    state="draft",
                    thread_parts=["text"],
                    idempotency_key=new_id(),
                    updated_at=row.updated_at,
                )
                for position, platform in enumerate(row.platforms)
            ]
            session.add(
                PostGroup(
                    id=row.id,
                    account_id=account_id,
                    content="text",
                    status=row.status,
                    platform_bits=platform_bits(row.platforms),
                    scheduled_at=row.scheduled_at,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    targets=targets,
                )
            )

    server.transaction(work)


def _expected(rows: list[Row], query: PostListQuery) -> list[str]:
    prefix = (query.platform_prefix or "").lower()
    kept = [
        r
        for r in rows
        if (query.status is None or r.status == query.status)
        and any(p.startswith(prefix) for p in r.platforms)
        and (query.scheduled_from is None or (r.scheduled_at or T0) >= query.scheduled_from)
        and (query.scheduled_to is None or (r.scheduled_at or T0) <= query.scheduled_to)
        and (r.scheduled_at is not None or not (query.scheduled_from or query.scheduled_to))
    ]
    column = SORTS[query.sort_by]
    dated = [r for r in kept if getattr(r, column) is not None]
    undated = [r for r in kept if getattr(r, column) is None]
    dated.sort(key=lambda r: (getattr(r, column), r.id), reverse=query.descending)
    undated.sort(key=lambda r: r.id, reverse=query.descending)
    return [r.id for r in dated + undated]  # NULLs last in both directions


def test_every_filter_sort_and_page_matches_brute_force(server: LiveServer, tenant: Tenant) -> None:
    rows = _rows(40)
    _stage(server, tenant.account_id, rows)
    filters = list(
        itertools.product(
            (None, *STATUSES),
            (None, "B", "t", "x"),
            itertools.product((None, T0 + timedelta(hours=1)), (None, T0 + timedelta(hours=4))),
        )
    )

    def check(sort_by: str, descending: bool) -> Any:
        async def work(session: Any) -> int:
            checked = 0
            for status, platform, (start, end) in filters:
                base = PostListQuery(
                    tenant.account_id, 1, 4, sort_by, descending, status, platform, start, end
                )  # type: ignore[arg-type]
                expected = _expected(rows, base)
                for page in range(1, -(-len(expected) // 4) + 2):
                    query = PostListQuery(**{**base.__dict__, "page": page})
                    groups, total = await PostStore(session).list_page(query)
                    assert total == len(expected), base
                    assert [g.id for g in groups] == expected[(page - 1) * 4 : page * 4], query
                    checked += 1
            return checked

        return work

    # One read per sort and direction: each stays well inside the helper's time limit.
    checked = sum(server.transaction(check(*sort)) for sort in itertools.product(SORTS, (1, 0)))
    assert checked > 800


# 1970-01-01 was a Thursday, and weeks are counted from it: 2031-03-06 starts one.
WEEK = datetime(2031, 3, 6, tzinfo=UTC)


def _spread_rows(count: int) -> list[Row]:
    """Times over nine weeks, many on a week's first instant or a microsecond before it."""
    rng = random.Random(23)
    edges = [WEEK + timedelta(weeks=w) for w in range(-4, 5)]
    times = [*edges, *(e - timedelta(microseconds=1) for e in edges)]

    def when() -> datetime:
        return (
            rng.choice(times)
            if rng.random() < 0.5
            else WEEK + timedelta(hours=rng.randint(-700, 700))
        )

    rows = []
    for _ in range(count):
        platforms = tuple(sorted(set(rng.choices(PLATFORMS, k=rng.randint(1, 2)))))
        scheduled = None if rng.random() < 0.15 else when()
        rows.append(Row(new_id(), rng.choice(STATUSES[:3]), platforms, scheduled, when(), when()))
    return rows


def _read_every_page(
    server: LiveServer, account_id: str, rows: list[Row], walk_limit: int, limit: int
) -> int:
    """Every page of every sort, direction, and a set of filters and date bounds (at a week's
    turn, inside a week, across weeks, one-sided), read with `walk_limit`, against brute force."""
    bounds = [
        (None, None),
        (WEEK, None),
        (None, WEEK - timedelta(microseconds=1)),
        (WEEK - timedelta(weeks=2, hours=5), WEEK + timedelta(weeks=1, hours=3)),
        (WEEK + timedelta(hours=1), WEEK + timedelta(hours=60)),
    ]
    cases = list(itertools.product((None, "published"), (None, "t"), bounds))

    def check(sort_by: str, descending: bool) -> Any:
        async def work(session: Any) -> int:
            reader = PostListReader(session, walk_limit=walk_limit)
            checked = 0
            for status, platform, (start, end) in cases:
                base = PostListQuery(
                    account_id, 1, limit, sort_by, descending, status, platform, start, end
                )  # type: ignore[arg-type]
                expected = _expected(rows, base)
                filters = ListFilter(account_id, status, platform, start, end)
                for page in range(1, -(-len(expected) // limit) + 2):
                    groups, total = await reader.page(filters, sort_by, descending, page, limit)
                    assert total == len(expected), base
                    want = expected[(page - 1) * limit : page * limit]
                    assert [g.id for g in groups] == want, (base, page)
                    checked += 1
            return checked

        return work

    return sum(server.transaction(check(*sort)) for sort in itertools.product(SORTS, (1, 0)))


def test_deep_pages_skip_whole_weeks_and_match_brute_force(
    server: LiveServer, tenant: Tenant
) -> None:
    """With no walk allowed, every page but the first and last of a segment is placed by the
    week tallies; the pages must be exactly those of the brute-force order."""
    rows = _spread_rows(120)
    _stage(server, tenant.account_id, rows)
    assert _read_every_page(server, tenant.account_id, rows, walk_limit=0, limit=7) > 500


def test_deep_pages_read_the_week_tallies(server: LiveServer, tenant: Tenant) -> None:
    """The week path is the one taken: with the oldest week's tally emptied, the pages it places
    go wrong, while walking the index still gives the right ones."""
    rows = _spread_rows(60)
    _stage(server, tenant.account_id, rows)

    async def corrupt(session: Any) -> None:
        t = PostWeekTally
        oldest = await session.scalar(
            select(func.min(t.week)).where(t.account_id == tenant.account_id, t.axis == "c")
        )
        await session.execute(
            update(t)
            .where(t.account_id == tenant.account_id, t.axis == "c", t.week == oldest)
            .values(n=0)
        )

    server.transaction(corrupt)
    query = PostListQuery(tenant.account_id, 3, 5, "createdAt", False)
    expected = _expected(rows, query)[10:15]

    def third_page(walk_limit: int) -> list[str]:
        async def work(session: Any) -> list[str]:
            reader = PostListReader(session, walk_limit=walk_limit)
            groups, _ = await reader.page(ListFilter(tenant.account_id), "createdAt", False, 3, 5)
            return [g.id for g in groups]

        return server.transaction(work)

    assert third_page(10_000) == expected
    assert third_page(0) != expected


def test_the_platform_filter_finds_what_create_post_stored(
    server: LiveServer, tenant: Tenant
) -> None:
    """The platform set is written by create-post itself, not only by staging."""
    group_id = create_post(tenant)
    body = tenant.client.get("/list-posts", params={"platform": "SAND"}).json()
    assert [p["postGroupId"] for p in body["posts"]] == [group_id]
    assert body["pagination"]["totalItems"] == 1
    body = tenant.client.get("/list-posts", params={"platform": "telegram"}).json()
    assert body["posts"] == []
    assert body["pagination"]["totalItems"] == 0


def test_calendar_pages_through_a_half_open_range(server: LiveServer, tenant: Tenant) -> None:
    rows = _rows(80)
    _stage(server, tenant.account_id, rows)
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=4)
    expected = sorted(
        (r.scheduled_at, r.id) for r in rows if r.scheduled_at and start <= r.scheduled_at < end
    )

    async def read(session: Any) -> list[tuple[datetime, str]]:
        seen: list[tuple[datetime, str]] = []
        after = None
        while True:
            page = await calendar_range(
                session, tenant.account_id, start, end, limit=3, after=after
            )
            assert len(page.posts) <= 3
            seen.extend((p.group.scheduled_at, p.group.id) for p in page.posts)  # type: ignore[misc]
            if page.next_after is None:
                return seen
            after = page.next_after

    assert len(expected) > 6
    assert server.transaction(read) == expected


def test_calendar_is_scoped_to_the_account(
    server: LiveServer, tenant: Tenant, new_tenant: Any
) -> None:
    other = new_tenant("Other")
    _stage(server, other.account_id, _rows(10))

    async def read(session: Any) -> int:
        page = await calendar_range(
            session, tenant.account_id, T0 - timedelta(days=1), T0 + timedelta(days=1)
        )
        return len(page.posts)

    assert server.transaction(read) == 0
