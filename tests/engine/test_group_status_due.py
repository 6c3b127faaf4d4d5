"""A worker that dies between a target's outcome and its group's status refresh must not leave
the group's stored status (list filters, tallies) behind its targets for good: the outcome notes
the group in its own transaction, and maintenance refreshes what no live worker did."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from herald.domain.timestamps import utc_now
from herald.engine.batching import (
    LEFT_OVER_AFTER,
    GroupStatusBatcher,
    SuccessBatcher,
    WriteBatcher,
)
from herald.engine.metrics import EngineMetrics
from herald.engine.outcome import Recorder
from herald.models import GroupStatusDue, PostGroup, PublishTarget
from herald.platforms.base import RejectedError
from herald.store.publish_queue import PublishQueueStore
from support import LiveServer, Tenant, create_post, iso_in, wait_until


def _claimed(server: LiveServer, group_id: str) -> Any:
    """Claim the group's target as a worker would, with its send gate passed."""

    async def work(session: Any) -> Any:
        await session.execute(
            update(PublishTarget)
            .where(PublishTarget.post_group_id == group_id)
            .values(due_at=utc_now() - timedelta(seconds=1))
        )
        queue = PublishQueueStore(session)
        (claim,) = await queue.claim("w1", utc_now(), 10, timedelta(minutes=5))
        await queue.pass_gate([(claim.id, claim.claim_token)], utc_now())
        return claim

    return server.transaction(work)


def _status(server: LiveServer, group_id: str) -> tuple[str, int]:
    """The group's stored status, and how many groups are noted for a refresh."""

    async def read(session: Any) -> tuple[str, int]:
        status = await session.scalar(select(PostGroup.status).where(PostGroup.id == group_id))
        noted = await session.scalar(select(func.count()).select_from(GroupStatusDue))
        return str(status), int(noted)

    return server.transaction(read)


def test_an_outcome_whose_worker_died_before_the_group_refresh_is_refreshed_by_maintenance(
    server: LiveServer, tenant: Tenant
) -> None:
    published = create_post(tenant, scheduledTime=iso_in(days=1))
    failed = create_post(tenant, scheduledTime=iso_in(days=1))
    claims = [_claimed(server, published), _claimed(server, failed)]
    sessions = server.context.sessions
    groups = GroupStatusBatcher(sessions)  # never started: its refreshes never run, as if dead

    async def outcomes_then_death() -> None:
        writer, successes = WriteBatcher(sessions), SuccessBatcher(sessions)
        writer.start()
        successes.start()
        recorder = Recorder(writer, successes, groups, EngineMetrics(), random.Random(1))
        progress = {"partIds": ["p1"], "partUrls": ["https://sandbox.test/p1"]}
        error = RejectedError("Refused by the platform")
        # Each outcome commits, then waits on its group's refresh, which never comes.
        waiting = [
            asyncio.create_task(recorder.published(claims[0], "publishing", 0, progress)),
            asyncio.create_task(recorder.failed(claims[1], "publishing", 0, error, "REFUSED")),
        ]
        # Until both outcomes (and so their notes, written in the same transactions) are
        # committed, however loaded the machine: stopping sooner would drop the writes themselves.
        for _ in range(1500):
            async with sessions() as session:
                noted = await session.scalar(select(func.count()).select_from(GroupStatusDue))
            if noted == len(claims):
                break
            await asyncio.sleep(0.02)
        for batcher in (writer, successes, groups):
            await batcher.stop()  # the worker dies: what still waits fails
        await asyncio.gather(*waiting, return_exceptions=True)

    server.run(outcomes_then_death())

    # Both outcomes are written; the stored statuses are not, and both groups are noted.
    assert _status(server, published) == ("scheduled", 2)
    assert _status(server, failed)[0] == "scheduled"

    # A sweep before the notes are old enough leaves them to their (possibly live) workers.
    assert server.run(groups.refresh_left_over(utc_now())) == 0
    later = utc_now() + LEFT_OVER_AFTER + timedelta(seconds=1)
    assert server.run(groups.refresh_left_over(later)) == 2
    assert _status(server, published) == ("published", 0)
    assert _status(server, failed) == ("failed", 0)


def test_the_engines_own_refresh_clears_the_notes_of_what_it_published(
    server: LiveServer, tenant: Tenant, engine: Any, sandbox: httpx.Client
) -> None:
    group_ids = [create_post(tenant) for _ in range(3)]
    wait_until(lambda: all(_status(server, g)[0] == "published" for g in group_ids), timeout=30)
    wait_until(lambda: _status(server, group_ids[0])[1] == 0, timeout=10)
    assert len(sandbox.get("/_sim/posts").json()["posts"]) == 3
