"""The reconciler's lookups against the X simulator over loopback: a 429 holds every lookup of
the connection until the platform's reset, and a lookup that keeps failing backs off
exponentially per target, with its count kept in the database across an engine restart, and
still settles without a second tweet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.publishing import LOOKUP_BACKOFF_BASE
from herald.domain.timestamps import utc_now
from herald.engine.dispatcher import Engine
from herald.models import ConnectionGate
from support import (
    LiveServer,
    Tenant,
    create_post,
    iso_in,
    post_when,
    running_engine,
    target_rows,
    update_target,
    wait_until,
)
from x_support import XControl, connect_x, x_sim, x_sim_url

__all__ = ["x_sim", "x_sim_url"]  # fixtures, found by pytest through the module's names


def _stage_in_doubt(server: LiveServer, group_id: str) -> None:
    """What a worker that sent the tweet two hours ago and died before the answer leaves."""
    since = utc_now() - timedelta(hours=2)
    update_target(
        server, group_id, state="in_doubt", sent_at=since, first_sent_at=since, in_doubt_since=since
    )


def _gate(server: LiveServer) -> Any:
    """The test's one connection's gate, if Herald has written one."""

    async def read(session: AsyncSession) -> Any:
        return (await session.scalars(select(ConnectionGate))).first()

    return server.transaction(read)


def _tomorrow(tenant: Tenant, connection: str, text: str) -> str:
    return create_post(tenant, content=text, platforms=[connection], scheduledTime=iso_in(days=1))


def test_a_rate_limited_lookup_holds_the_connection_until_the_reset(
    engine: Engine, server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    connection = connect_x(server, tenant, x_sim)
    x_sim.configure(retry_after_s=2)
    x_sim.script_timeline("rate_limit")
    first = _tomorrow(tenant, connection, "First in doubt")
    second = _tomorrow(tenant, connection, "Second in doubt")
    _stage_in_doubt(server, first)
    # Herald holds the connection: the gate is written with the first target's failure.
    gate = wait_until(lambda: _gate(server))
    limited_at = utc_now()
    assert gate.reason == "rate_limited"
    assert x_sim.stats()["rate_limited"] == 1
    # Another target of the same connection comes into doubt while the window is full.
    _stage_in_doubt(server, second)
    for group_id in (first, second):
        post_when(tenant, group_id, "published", timeout=10)
    stats = x_sim.stats()
    # One 429 in all: neither target asked again before X's reset.
    assert stats["rate_limited"] == 1
    assert (stats["timelines"], stats["creates"], stats["tweets"]) == (3, 2, 2)
    published = [target_rows(server, group_id)[0].published_at for group_id in (first, second)]
    # x-rate-limit-reset is a whole epoch second at least retry_after_s - 1 s away.
    assert all(at - limited_at >= timedelta(seconds=1) for at in published)


def _next_wait(server: LiveServer, group_id: str, failures: int) -> tuple[timedelta, timedelta]:
    """Wait until the target's lookups have failed `failures` times in all (the target back in
    doubt), and bound the wait it was given before its next one: (at least, at most)."""
    before = utc_now()
    row = wait_until(
        lambda: (
            (r := target_rows(server, group_id)[0]).lookup_failures == failures
            and r.state == "in_doubt"
            and r
        )
    )
    assert row.lookup_after is not None
    return row.lookup_after - utc_now(), row.lookup_after - before


def _doubles(bounds: tuple[timedelta, timedelta], failures: int) -> bool:
    """Each failure doubles the ceiling; half of it is always waited (equal jitter)."""
    at_most, at_least = bounds
    ceiling = LOOKUP_BACKOFF_BASE * (1 << (failures - 1))
    return at_least >= ceiling / 2 and at_most <= ceiling


def test_failing_lookups_back_off_across_a_restart_and_still_settle_once(
    engine: Engine, server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    connection = connect_x(server, tenant, x_sim)
    x_sim.script_timeline("unavailable", "unavailable", "unavailable")
    group_id = _tomorrow(tenant, connection, "Looked up while X is down")
    _stage_in_doubt(server, group_id)
    assert _doubles(_next_wait(server, group_id, 1), 1)
    update_target(server, group_id, lookup_after=utc_now())  # as if the wait were over
    assert _doubles(_next_wait(server, group_id, 2), 2)
    assert x_sim.stats()["timelines"] == 2  # one lookup each time it came due, no more

    server.run(engine.stop(grace=1))
    with running_engine(server, engine.settings):
        update_target(server, group_id, lookup_after=utc_now())
        # The count survived the restart: the ceiling keeps doubling.
        assert _doubles(_next_wait(server, group_id, 3), 3)
        update_target(server, group_id, lookup_after=utc_now())
        body = post_when(tenant, group_id, "published", timeout=10)
    stats = x_sim.stats()
    assert (stats["timelines"], stats["creates"], stats["tweets"]) == (4, 1, 1)
    assert body["posts"][0]["postedId"] == x_sim.tweets()[0]["id"]
