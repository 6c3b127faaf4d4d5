"""Fairness between tenants: one tenant's endpoint that stops answering, with hundreds of posts
due, must not hold up another tenant's post due a moment later (engine/fair_share.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from herald.engine.dispatcher import Engine
from herald.models import Connection, PublishTarget
from hold_support import HoldingEndpoint, holding_endpoint
from support import LiveServer, Tenant, create_post, post_when, running_engine, wait_until

SLOTS = 50
SLOW_POSTS = 200


@pytest.fixture
def patient_engine(server: LiveServer, sandbox: httpx.Client) -> Iterator[Engine]:
    """An engine whose calls wait five minutes for an answer, so a held call stays held however
    long creating the posts takes on a busy machine (at a minute, the first held calls timed out
    in doubt while the last posts were still being created)."""
    settings = server.settings.model_copy(
        update={
            "sandbox_url": server.base_url + "/sim/sandbox",
            "engine_lease_seconds": 3.0,
            "engine_concurrency": SLOTS,
            "engine_http_timeout_seconds": 300.0,
            # Enough calls go out at once for the held ones to fill the tenant's share.
            "engine_host_initial_limit": 10,
        }
    )
    with running_engine(server, settings) as running:
        yield running


@pytest.fixture
def holding() -> Iterator[HoldingEndpoint]:
    """Answers the first call (the engine learns the host's latency and opens its limit to the
    initial 10), then holds every other."""
    with holding_endpoint(free=1) as endpoint:
        yield endpoint


def _point_at(server: LiveServer, account_id: str, url: str) -> None:
    async def write(session: Any) -> None:
        await session.execute(
            update(Connection)
            .where(Connection.account_id == account_id)
            .values(options={"baseUrl": url})
        )

    server.transaction(write)


def _states(server: LiveServer, connection_account: str) -> dict[str, int]:
    async def read(session: Any) -> dict[str, int]:
        query = (
            select(PublishTarget.state, func.count())
            .join(Connection, Connection.id == PublishTarget.connection_id)
            .where(Connection.account_id == connection_account)
            .group_by(PublishTarget.state)
        )
        return {state: int(count) for state, count in await session.execute(query)}

    return server.transaction(read)


def test_a_tenant_whose_endpoint_holds_every_answer_does_not_hold_up_another(
    server: LiveServer,
    patient_engine: Engine,
    new_tenant: Callable[..., Tenant],
    holding: HoldingEndpoint,
) -> None:
    slow, other = new_tenant("Slow"), new_tenant("Other")
    _point_at(server, slow.account_id, holding.url)
    for _ in range(SLOW_POSTS):
        create_post(slow)
    wait_until(lambda: holding.held >= 5)  # the slow tenant's calls: out, and held

    group_id = create_post(other)
    body = post_when(other, group_id, "published")

    assert body["posts"][0]["status"] == "published"
    states = _states(server, slow.account_id)
    # The slow tenant's calls are all still held: none was answered meanwhile.
    assert holding.answered == 1
    assert 5 <= holding.held <= states["publishing"], states
    # The slow tenant holds at most its share of the worker's slots, and the rest of its posts
    # wait unclaimed; none was sent only to time out.
    assert states.get("publishing", 0) <= SLOTS // 4  # one connection's share, alone
    assert states.get("scheduled", 0) >= SLOW_POSTS - 1 - SLOTS // 4
    assert "in_doubt" not in states

    holding.release()
    wait_until(lambda: _states(server, slow.account_id) == {"published": SLOW_POSTS}, 60)
    assert holding.answered == SLOW_POSTS  # each once
