"""Platform answers the engine must survive: delays from a platform are bounded, an exception
after the send gate goes the in-doubt way, and a target that keeps crashing the engine is parked
as failed with ENGINE_ERROR instead of being tried forever."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from herald.domain.timestamps import utc_now
from herald.engine.dispatcher import Engine
from herald.models import Connection, ConnectionGate, PublishAttempt
from herald.services.secret_box import SecretBox
from herald.store.publish_queue import PublishQueueStore
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

# The documented bound on a platform-supplied delay, and the documented crash budget.
MAX_PLATFORM_DELAY = timedelta(hours=24)
MAX_CRASHES = 3


def _attempts(server: LiveServer, group_id: str) -> list[str]:
    target_id = target_rows(server, group_id)[0].id

    async def read(session: Any) -> list[str]:
        query = (
            select(PublishAttempt.outcome)
            .where(PublishAttempt.target_id == target_id)
            .order_by(PublishAttempt.at, PublishAttempt.id)
        )
        return list((await session.scalars(query)).all())

    return server.transaction(read)


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "300000000000"},
        {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"Retry-After": "-5", "X-RateLimit-Reset": "-5"},
        {"X-RateLimit-Reset": "1e300"},
        {"X-RateLimit-Reset": "nan"},
    ],
    ids=["huge-seconds", "far-http-date", "negative", "huge-reset", "nan-reset"],
)
def test_a_platform_delay_is_bounded_and_the_post_is_held(
    server: LiveServer,
    engine: Engine,
    new_tenant: Callable[..., Tenant],
    sandbox: httpx.Client,
    headers: dict[str, str],
) -> None:
    tenant, other = new_tenant("Acme"), new_tenant("Other")
    sandbox.post("/_sim/config", json={"rate_limit_headers": headers}).raise_for_status()
    sandbox.post("/_sim/script", json={"faults": ["rate_limit"]}).raise_for_status()
    held = create_post(tenant)
    wait_until(lambda: target_rows(server, held)[0].rate_limited == 1)
    # The engine is alive: another tenant's post goes out after the odd answer.
    post_when(other, create_post(other), "published")

    now = utc_now()
    row = target_rows(server, held)[0]
    assert row.state == "scheduled"
    # Held: never "retry now" (a negative or NaN delay is ignored, and a 429 without a usable
    # delay waits a minute), never past the bound.
    assert (
        now + timedelta(seconds=30) < row.due_at <= now + MAX_PLATFORM_DELAY + timedelta(seconds=5)
    )

    async def gate(session: Any) -> Any:
        return await session.get(ConnectionGate, row.connection_id)

    assert server.transaction(gate).blocked_until <= now + MAX_PLATFORM_DELAY
    assert tenant.client.get(f"/get-post/{held}").json()["status"] == "scheduled"
    refs = [post["ref"] for post in sandbox.get("/_sim/posts").json()["posts"]]
    assert f"{row.id}:0" not in refs
    assert sandbox.get("/_sim/stats").json()["requests"] == 2  # one each: no re-send


def test_an_exception_after_the_gate_goes_in_doubt_and_is_settled_once(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    # A success whose post id cannot be stored (a lone surrogate): the result write raises.
    body = '{"id": "\\ud800", "url": null}'
    sandbox.post("/_sim/config", json={"success_body": body}).raise_for_status()
    group_id = create_post(tenant)
    published = post_when(tenant, group_id, "published", "failed")
    assert published["status"] == "published"
    stats = sandbox.get("/_sim/stats").json()
    assert (stats["posts"], stats["replays"], stats["duplicates"]) == (1, 1, 0)
    post = sandbox.get("/_sim/posts").json()["posts"][0]
    assert published["posts"][0]["postedId"] == post["id"]
    # In doubt at once, then settled by a re-send with the same key, which the platform replayed.
    assert _attempts(server, group_id) == ["engine_error", "resend", "published"]


def _seal_with_another_key(server: LiveServer, connection_id: str) -> None:
    """Credentials the engine cannot open (sealed under a key it does not have): opening them
    raises after the send gate, every time."""
    sealed = SecretBox(Fernet.generate_key()).seal({"token": "t"})

    async def write(session: Any) -> None:
        connection = await session.get(Connection, connection_id)
        connection.credentials = sealed

    server.transaction(write)


def test_credentials_sealed_anew_are_opened_anew(
    server: LiveServer, engine: Engine, tenant: Tenant
) -> None:
    """The engine keeps opened credentials by their sealed value: once a connection's are sealed
    anew (here under a key the engine lacks), its next post must not go out with the old ones."""
    first = create_post(tenant)
    assert post_when(tenant, first, "published", "failed")["status"] == "published"
    _seal_with_another_key(server, target_rows(server, first)[0].connection_id)
    second = create_post(tenant)
    wait_until(lambda: _attempts(server, second)[:1] == ["engine_error"])


def test_a_target_that_keeps_crashing_the_engine_is_parked(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    # The first engine never reconciles, so it stops after one crash with the target in doubt.
    server.run(engine.stop(grace=1))
    patient = engine.settings.model_copy(update={"engine_reconcile_interval_seconds": 600.0})
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    _seal_with_another_key(server, target_rows(server, group_id)[0].connection_id)
    with running_engine(server, patient):
        due = tenant.client.put(
            f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
        )
        assert due.status_code == 200, due.text
        wait_until(lambda: _attempts(server, group_id) == ["engine_error"])
    assert target_rows(server, group_id)[0].state == "in_doubt"

    # A new engine (a restart) carries on from the count the first one left in the row.
    with running_engine(server, engine.settings):
        body = post_when(tenant, group_id, "failed")
    post = body["posts"][0]
    assert post["errorCode"] == "ENGINE_ERROR"
    assert "could not confirm" in post["errorMessage"]
    assert _attempts(server, group_id).count("engine_error") == MAX_CRASHES
    assert sandbox.get("/_sim/stats").json()["requests"] == 0


def test_a_target_whose_lease_keeps_expiring_is_parked(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    """Each claim is lost with its process during a platform call (a send, then lookups): no
    outcome is recorded and the lease runs out. The count lives in the row, so the engine that
    starts afterwards parks the target."""
    server.run(engine.stop(grace=1))
    group_id = create_post(tenant)
    target_id = target_rows(server, group_id)[0].id
    # The deaths happened over the last hour, five minutes apart: each rescued claim's
    # backoff is over before the next claim.
    start = utc_now() - timedelta(hours=1)
    update_target(server, group_id, due_at=start, expire_at=start + timedelta(hours=24))
    clock = iter(start + timedelta(minutes=5 * step) for step in range(2 * MAX_CRASHES))
    worker, no_lease = "doomed-worker", timedelta(0)

    async def claim_send_and_die(session: Any) -> None:
        queue, now = PublishQueueStore(session), next(clock)
        (claim,) = await queue.claim(worker, now, 10, no_lease)
        assert await queue.pass_gate([(claim.id, claim.claim_token)], now) == {claim.id}

    async def look_up_and_die(session: Any) -> None:
        queue, now = PublishQueueStore(session), next(clock)
        (claim,) = await queue.claim_in_doubt(worker, now, now, 10, no_lease)
        assert claim.id == target_id
        assert await queue.start_lookup(claim.id, claim.claim_token, now)

    async def rescue(session: Any) -> None:
        assert await PublishQueueStore(session).rescue_expired_leases(next(clock)) == 1

    server.transaction(claim_send_and_die)
    for _ in range(MAX_CRASHES - 1):
        server.transaction(rescue)
        server.transaction(look_up_and_die)
    server.transaction(rescue)
    row = target_rows(server, group_id)[0]
    assert (row.state, row.crashes) == ("in_doubt", MAX_CRASHES)

    with running_engine(server, engine.settings):
        body = post_when(tenant, group_id, "failed")
    assert body["posts"][0]["errorCode"] == "ENGINE_ERROR"
    assert sandbox.get("/_sim/stats").json()["requests"] == 0


def test_a_claim_lost_before_any_platform_call_is_no_crash(
    server: LiveServer, tenant: Tenant
) -> None:
    """A worker dies with everything it holds; only a claim whose call was under way may be
    what killed it."""
    group_id = create_post(tenant)

    async def claim_and_die(session: Any) -> None:
        assert await PublishQueueStore(session).claim("doomed", utc_now(), 10, timedelta(0))

    async def rescue(session: Any) -> None:
        assert await PublishQueueStore(session).rescue_expired_leases(utc_now()) == 1

    for _ in range(MAX_CRASHES + 1):
        server.transaction(claim_and_die)
        assert target_rows(server, group_id)[0].crashes == 1
        server.transaction(rescue)
        row = target_rows(server, group_id)[0]
        assert (row.state, row.crashes) == ("scheduled", 0)


def test_a_dead_workers_claims_come_back_spread_out(server: LiveServer, tenant: Tenant) -> None:
    """Taken again all at once, a dead worker's claims could die together again, each counted
    against a post that did nothing wrong."""
    groups = [create_post(tenant, scheduledTime=iso_in(days=1)) for _ in range(20)]
    now = utc_now()
    for group_id in groups:
        update_target(server, group_id, due_at=now)

    async def claim_send_and_die(session: Any) -> None:
        queue = PublishQueueStore(session)
        claims = await queue.claim("doomed-worker", now, 100, timedelta(0))
        sent = await queue.pass_gate([(claim.id, claim.claim_token) for claim in claims], now)
        assert len(sent) == len(groups)

    async def rescue(session: Any) -> int:
        return await PublishQueueStore(session).rescue_expired_leases(now + timedelta(seconds=1))

    server.transaction(claim_send_and_die)
    assert server.transaction(rescue) == len(groups)
    rows = [target_rows(server, group_id)[0] for group_id in groups]
    assert {row.state for row in rows} == {"in_doubt"}
    due = sorted(row.due_at for row in rows)
    assert len(set(due)) == len(groups)
    assert now <= due[0] < due[-1] <= now + timedelta(seconds=11)

    async def reconcile_now(session: Any) -> int:
        later = now + timedelta(seconds=1)
        claims = await PublishQueueStore(session).claim_in_doubt(
            "w", later, later, 100, timedelta(1)
        )
        return len(claims)

    # Only those whose backoff is over are taken (the backoff spans ten seconds).
    assert server.transaction(reconcile_now) < len(groups)


def test_claims_that_end_with_an_outcome_are_not_crashes(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    # More rate limits than the crash budget: each claim records an outcome, so none counts.
    faults = ["rate_limit"] * (MAX_CRASHES + 1)
    sandbox.post("/_sim/config", json={"retry_after_s": 0}).raise_for_status()
    sandbox.post("/_sim/script", json={"faults": faults}).raise_for_status()
    group_id = create_post(tenant)
    post_when(tenant, group_id, "published", "failed", timeout=30)
    row = target_rows(server, group_id)[0]
    assert (row.state, row.rate_limited, row.crashes) == ("published", MAX_CRASHES + 1, 0)
