"""The kept tallies (`store.post_tally`) equal `COUNT(*)` of the groups after every change of a
group's state, whatever makes it: create-post, update-post, delete-post and a media deletion that
demotes, over HTTP; the engine's set-based status refresh; the service's refresh; and under
concurrent writers on PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib.util
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update

from herald.db.migrate import MIGRATIONS_DIR
from herald.domain.timestamps import utc_now
from herald.models import PostCrossTally, PostGroup, PostTally, PostWeekTally, PublishTarget
from herald.services.post import refresh_group_status
from herald.store.post import PostListQuery, PostStore
from herald.store.post_tally import week_sql
from herald.store.publish_result import PublishResultStore
from support import LiveServer, Tenant, add_raw_connection, iso_in

G = PostGroup
# Engine states a group's targets may be left in, and whether the call started.
ENGINE_STATES = [
    ("scheduled", False),
    ("publishing", False),
    ("publishing", True),
    ("in_doubt", True),
    ("published", True),
    ("failed", False),
    ("failed", True),
    ("outcome_unknown", True),
]


def _tallies(server: LiveServer) -> tuple[dict[Any, int], dict[Any, int]]:
    """(kept tallies, counted groups) by (account, status, platform set, dated), zeros left out."""

    async def read(session: Any) -> tuple[dict[Any, int], dict[Any, int]]:
        t = PostTally
        kept = await session.execute(select(t.account_id, t.status, t.platform_bits, t.dated, t.n))
        dated = G.scheduled_at.is_not(None)
        counted = await session.execute(
            select(G.account_id, G.status, G.platform_bits, dated, func.count()).group_by(
                G.account_id, G.status, G.platform_bits, dated
            )
        )
        as_dict = lambda rows: {(a, s, b, bool(d)): n for a, s, b, d, n in rows if n}  # noqa: E731
        return as_dict(kept), as_dict(counted)

    return server.transaction(read)


def _week(moment: datetime) -> int:
    """Whole weeks since 1970-01-01, UTC (written out here, not taken from the code under test)."""
    days = (moment.astimezone(UTC).date() - date(1970, 1, 1)).days
    return max(days, 0) // 7


def _week_tallies(server: LiveServer) -> tuple[dict[Any, int], dict[Any, int]]:
    """(kept week and cross tallies, groups counted by their keys): (account, axis, week,
    status, platform set) and (account, "x" + axis, week, scheduled week, status)."""

    async def read(session: Any) -> tuple[dict[Any, int], dict[Any, int]]:
        w, x = PostWeekTally, PostCrossTally
        kept: dict[Any, int] = {}
        for account, axis, week, status, bits, n in await session.execute(
            select(w.account_id, w.axis, w.week, w.status, w.platform_bits, w.n)
        ):
            if n:
                kept[(account, axis, week, status, bits)] = n
        for account, axis, week, scheduled, status, n in await session.execute(
            select(x.account_id, x.axis, x.week, x.scheduled_week, x.status, x.n)
        ):
            if n:
                kept[(account, "x" + axis, week, scheduled, status)] = n
        groups = await session.execute(
            select(
                G.account_id, G.status, G.platform_bits, G.scheduled_at, G.created_at, G.updated_at
            )
        )
        counted: Counter[Any] = Counter()
        for account, status, bits, scheduled, created, updated in groups:
            counted[(account, "c", _week(created), status, bits)] += 1
            counted[(account, "u", _week(updated), status, bits)] += 1
            if scheduled is not None:
                counted[(account, "s", _week(scheduled), status, bits)] += 1
                for axis, moment in (("xc", created), ("xu", updated)):
                    counted[(account, axis, _week(moment), _week(scheduled), status)] += 1
        return kept, dict(counted)

    return server.transaction(read)


def _engine_refresh(server: LiveServer, group_id: str, rng: random.Random) -> None:
    """Targets moved as workers move them, then the engine's own batched status refresh."""
    state, sent = rng.choice(ENGINE_STATES)

    async def work(session: Any) -> None:
        await session.execute(
            update(PublishTarget)
            .where(PublishTarget.post_group_id == group_id)
            .values(state=state, sent_at=utc_now() if sent else None)
        )
        await PublishResultStore(session).refresh_group_statuses([group_id])

    server.transaction(work)


def _service_refresh(server: LiveServer, group_id: str, rng: random.Random) -> None:
    """Targets changed on the loaded group, status refreshed the way services do it."""
    state, sent = rng.choice(ENGINE_STATES)

    async def work(session: Any) -> None:
        group = await PostStore(session).get_by_id(group_id)
        for target in group.targets:
            target.state = state
            target.sent_at = utc_now() if sent else None
        refresh_group_status(group)

    server.transaction(work)


def _body(rng: random.Random, platforms: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"content": f"post {rng.random()}"}
    body["platforms"] = rng.sample(platforms, rng.randint(1, len(platforms)))
    when = rng.choice(["draft", "dated draft", "scheduled"])
    if when != "scheduled":
        body["status"] = "draft"
    if when != "draft":
        body["scheduledTime"] = iso_in(days=rng.randint(1, 30))
    return body


def _step(
    server: LiveServer, rng: random.Random, tenant: Tenant, platforms: list[str], groups: list[str]
) -> str:
    op = rng.choice(["create", "create", "update", "delete", "demote", "engine", "service"])
    if op == "create" or not groups:
        answer = tenant.client.post("/create-post", json=_body(rng, platforms))
        assert answer.status_code == 200, answer.text
        groups.append(answer.json()["postGroupId"])
        return "create"
    group_id = rng.choice(groups)
    if op == "update":
        # Some are refused (a published group): the tally must not move then either.
        body = rng.choice([_body(rng, platforms), {"status": "draft"}, {"content": "edited"}])
        tenant.client.put(f"/update-post/{group_id}", json=body)
    elif op == "delete":
        if tenant.client.delete(f"/delete-post/{group_id}").status_code == 200:
            groups.remove(group_id)
    elif op == "demote":
        # A scheduled group whose media is deleted goes back to draft (media_files._demote).
        ticket = {"postGroupId": group_id, "fileName": "p.png", "contentType": "image/png"}
        issued = tenant.client.post("/get-upload-url", json=ticket)
        if issued.status_code != 200:
            return "refused"
        removed = tenant.client.delete(f"/media/{issued.json()['mediaId']}").json()
        return "demote" if removed.get("postGroupDemoted") else "media"
    elif op == "engine":
        _engine_refresh(server, group_id, rng)
    else:
        _service_refresh(server, group_id, rng)
    return op


def test_random_changes_keep_every_tally_equal_to_the_count(
    server: LiveServer, new_tenant: Callable[..., Tenant]
) -> None:
    rng = random.Random(20)
    tenants = [new_tenant("One"), new_tenant("Two")]
    platforms = {
        t.account_id: [
            t.platform_id,
            add_raw_connection(server, t.account_id, "telegram", f"tg-{i}"),
            add_raw_connection(server, t.account_id, "bluesky", f"did:plc:{i}"),
        ]
        for i, t in enumerate(tenants)
    }
    groups: dict[str, list[str]] = {t.account_id: [] for t in tenants}
    done: set[str] = set()
    for step in range(30):
        tenant = rng.choice(tenants)
        done.add(
            _step(server, rng, tenant, platforms[tenant.account_id], groups[tenant.account_id])
        )
        kept, counted = _tallies(server)
        assert kept == counted, f"step {step}"
        kept_weeks, counted_weeks = _week_tallies(server)
        assert kept_weeks == counted_weeks, f"step {step}"
    assert {"create", "update", "delete", "demote", "engine", "service"} <= done
    assert len({status for _, status, _, _ in counted}) >= 3
    assert len({bits for _, _, bits, _ in counted}) >= 3


def test_totals_from_the_tally_equal_the_indexed_count(server: LiveServer, tenant: Tenant) -> None:
    """list-posts answers the same total whether it sums tallies or counts (date-bounded)
    index entries; a bound that takes in every group makes the two comparable."""
    rng = random.Random(21)
    telegram = add_raw_connection(server, tenant.account_id, "telegram", "tg")
    for _ in range(12):
        body = _body(rng, [tenant.platform_id, telegram])
        body.pop("status", None)
        body["scheduledTime"] = iso_in(days=rng.randint(1, 30))
        assert tenant.client.post("/create-post", json=body).status_code == 200
    far = utc_now().replace(year=utc_now().year + 5)

    async def totals(session: Any) -> list[tuple[int, int]]:
        pairs = []
        for status in (None, "scheduled", "draft"):
            for prefix in (None, "tele", "s"):
                tallied = PostListQuery(tenant.account_id, 1, 5, status=status)
                tallied = replace(tallied, platform_prefix=prefix)
                counted = replace(tallied, scheduled_to=far)
                _, by_tally = await PostStore(session).list_page(tallied)
                _, by_count = await PostStore(session).list_page(counted)
                pairs.append((by_tally, by_count))
        return pairs

    pairs = server.transaction(totals)
    assert all(a == b for a, b in pairs), pairs
    assert pairs[0][0] == 12


def test_concurrent_writers_lose_no_update(server: LiveServer, tenant: Tenant) -> None:
    """16 transactions at once (twice) move the same groups of one account (engine refreshes and
    service edits, the latter on groups loaded before another changed them). On PostgreSQL,
    read committed, they interleave between statements: no delta is lost, none is counted
    twice, none dies in a deadlock. SQLite's writers queue, and must come out equally exact."""
    telegram = add_raw_connection(server, tenant.account_id, "telegram", "tg")
    ids = [
        tenant.client.post(
            "/create-post",
            json={
                "content": f"c{i}",
                "platforms": [tenant.platform_id, telegram],
                "scheduledTime": iso_in(days=2),
            },
        ).json()["postGroupId"]
        for i in range(8)
    ]
    rng = random.Random(22)
    context = server.context

    async def one(seed: int) -> None:
        mine = random.Random(seed)
        chosen = sorted(mine.sample(ids, 3))
        state, sent = mine.choice(ENGINE_STATES)
        async with context.transaction() as session:
            # The service path loads its groups first: their stored status may change under it.
            loaded = [await PostStore(session).get_by_id(g) for g in chosen] if seed % 2 else []
            await asyncio.sleep(0)  # let the others in between the statements
            # Targets one by one in id order, as the engine takes them: this test's own writes
            # then never wait on each other in a cycle.
            targets = await session.scalars(
                select(PublishTarget.id)
                .where(PublishTarget.post_group_id.in_(chosen))
                .order_by(PublishTarget.id)
            )
            for target_id in targets.all():
                await session.execute(
                    update(PublishTarget)
                    .where(PublishTarget.id == target_id)
                    .values(state=state, sent_at=utc_now() if sent else None)
                )
            await asyncio.sleep(0)
            if not loaded:
                await PublishResultStore(session).refresh_group_statuses(chosen)
                return
            for group in loaded:
                await session.refresh(group, ["targets"])
                refresh_group_status(group)

    async def race() -> None:
        await asyncio.gather(*(one(rng.randrange(10**9)) for _ in range(16)))

    for _ in range(2):
        server.run(race())
        kept, counted = _tallies(server)
        assert kept == counted
        kept_weeks, counted_weeks = _week_tallies(server)
        assert kept_weeks == counted_weeks
    assert sum(counted.values()) == 8


def _migration(name: str) -> Any:
    path = next(MIGRATIONS_DIR.glob(f"versions/*{name}.py"))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_week_backfill_puts_each_group_in_the_week_the_code_does(
    server: LiveServer, tenant: Tenant
) -> None:
    """The migration computes weeks in SQL from the stored dates; the writers compute them in
    Python. Times on both sides of midnight at the turn of a week, and a microsecond before it,
    must land in the same week either way."""
    turn = datetime(2031, 3, 6, tzinfo=UTC)  # a Thursday: 1970-01-01 was one, so weeks turn here
    assert _week(turn) == _week(turn - timedelta(microseconds=1)) + 1
    moments = [turn + timedelta(microseconds=d) for d in (-1, 0, 1)]
    moments += [turn + timedelta(days=d, hours=h) for d in (-8, -1, 3, 7) for h in (0, 23)]
    moments += [datetime(1969, 12, 25, tzinfo=UTC), datetime(1970, 1, 8, tzinfo=UTC)]

    async def stage(session: Any) -> None:
        for i, moment in enumerate(moments):
            session.add(
                PostGroup(
                    id=f"wk{i:04d}{'0' * 16}"[:20],
                    account_id=tenant.account_id,
                    content="text",
                    status="scheduled",
                    platform_bits=1,
                    scheduled_at=moment if i % 3 else None,
                    created_at=moment,
                    updated_at=moments[-1 - i],
                )
            )

    server.transaction(stage)
    kept, counted = _week_tallies(server)
    assert kept == counted
    assert len({key[2] for key in counted if key[1] == "c"}) >= 6
    assert len({key[3] for key in counted if key[1] == "xu"}) >= 4
    migration = _migration("post_week_tally")

    async def rebuild(session: Any) -> None:
        # Some tallies lost, the rest doubled: the backfills add what is missing.
        await session.execute(delete(PostWeekTally).where(PostWeekTally.axis != "c"))
        await session.execute(update(PostWeekTally).values(n=PostWeekTally.n * 2))
        await session.execute(delete(PostCrossTally).where(PostCrossTally.axis == "u"))
        await session.execute(update(PostCrossTally).values(n=PostCrossTally.n * 2))
        dialect = session.get_bind().dialect.name
        await session.execute(text(str(migration.backfill_weeks(dialect))))
        await session.execute(text(str(migration.backfill_cross(dialect))))

    server.transaction(rebuild)
    assert _week_tallies(server)[0] == counted

    async def weeks_by_the_database(session: Any) -> list[tuple[int, int]]:
        dialect = session.get_bind().dialect.name
        query = select(G.created_at, week_sql(G.created_at, dialect)).where(
            G.account_id == tenant.account_id
        )
        return [(_week(moment), week) for moment, week in await session.execute(query)]

    pairs = server.transaction(weeks_by_the_database)
    assert len(pairs) == len(moments)
    assert all(ours == theirs for ours, theirs in pairs), pairs
