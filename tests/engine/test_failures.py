"""Failures, retries and recovery: rate limits, backoff, re-auth, rejection, in-doubt outcomes,
rescue of crashed claims, edits racing the send gate, expiry, and thread resume."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from herald.domain.timestamps import parse_timestamp, utc_now
from herald.engine.dispatcher import Engine
from herald.models import PublishAttempt
from herald.store.publish_queue import PublishQueueStore
from support import (
    LiveServer,
    Tenant,
    add_sandbox_connection,
    as_connection,
    create_post,
    iso_in,
    post_when,
    running_engine,
    target_rows,
    update_target,
    wait_until,
)


def _create(tenant: Tenant, **fields: object) -> str:
    """Due now unless `fields` give a time or a status (support.create_post)."""
    return create_post(tenant, **fields)


def _script(sandbox: httpx.Client, *faults: str, **config: Any) -> None:
    if config:
        sandbox.post("/_sim/config", json=config).raise_for_status()
    sandbox.post("/_sim/script", json={"faults": list(faults)}).raise_for_status()


def test_429_gates_the_whole_connection_then_publishes(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    from herald.models import ConnectionGate

    _script(sandbox, "rate_limit", retry_after_s=1)
    first = _create(tenant)
    wait_until(lambda: target_rows(server, first)[0].rate_limited == 1)
    connection_id = target_rows(server, first)[0].connection_id

    async def gate(session: Any) -> Any:
        return await session.get(ConnectionGate, connection_id)

    blocked = server.transaction(gate)
    assert blocked.reason == "rate_limited"
    second = _create(tenant)
    for group_id in (first, second):
        post_when(tenant, group_id, "published")
    rows = target_rows(server, first)[0], target_rows(server, second)[0]
    assert (rows[0].attempt, rows[0].rate_limited) == (0, 1)  # a 429 costs no attempt
    posts = sandbox.get("/_sim/posts").json()["posts"]
    assert len(posts) == 2
    # Nothing went to the platform while the connection was gated (Retry-After: 1 s).
    assert all(parse_timestamp(p["createdAt"]) >= blocked.blocked_until for p in posts)


def test_a_definite_failure_backs_off_and_retries(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    _script(sandbox, "unavailable")
    group_id = _create(tenant)
    failed_at = utc_now()
    wait_until(lambda: target_rows(server, group_id)[0].attempt == 1)
    row = target_rows(server, group_id)[0]
    if row.state == "scheduled":  # else the jitter was short and the retry already went out
        # Full jitter with a 5 s base: the retry is due within 5 s of the failure.
        assert row.due_at <= failed_at + timedelta(seconds=6)
        update_target(server, group_id, due_at=utc_now())  # don't wait out the jitter
        engine.wake()
    post_when(tenant, group_id, "published")
    assert target_rows(server, group_id)[0].attempt == 1
    assert _attempts(server, group_id) == ["retry", "published"]
    assert sandbox.get("/_sim/stats").json()["posts"] == 1


def test_auth_failure_fails_the_post_and_marks_the_connection(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    sandbox.post("/_sim/config", json={"token": "expected"}).raise_for_status()
    group_id = _create(tenant)
    body = post_when(tenant, group_id, "failed")
    assert body["posts"][0]["errorCode"] == "NEEDS_REAUTH"
    connections = tenant.client.get("/platform-connections").json()["connections"]
    assert connections[0]["platformId"] == tenant.platform_id
    later = _create(tenant)  # the connection is gated: nothing is sent until it is reconnected
    assert tenant.client.get(f"/get-post/{later}").json()["status"] == "scheduled"
    assert sandbox.get("/_sim/stats").json()["requests"] == 1


def test_a_rejection_fails_at_once_with_the_platform_message(
    engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    _script(sandbox, "rejected")
    body = post_when(tenant, _create(tenant), "failed")
    post = body["posts"][0]
    assert post["errorCode"] == "PLATFORM_REJECTED"
    assert post["errorMessage"] == "The sandbox rejected the post: rejected by fault injection"
    assert sandbox.get("/_sim/stats").json()["requests"] == 1


@pytest.mark.parametrize("fault", ["lost_response", "error_after_create"])
def test_in_doubt_is_resolved_by_resending_with_the_same_key(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client, fault: str
) -> None:
    _script(sandbox, fault, hang_s=3)
    group_id = _create(tenant)
    post_when(tenant, group_id, "published")
    stats = sandbox.get("/_sim/stats").json()
    assert (stats["posts"], stats["duplicates"], stats["replays"]) == (1, 0, 1)
    outcomes = _attempts(server, group_id)
    assert outcomes[0] == "in_doubt"
    assert outcomes[-1] == "published"


def test_in_doubt_past_the_key_lifetime_is_looked_up(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    group_id = _create(tenant, scheduledTime=iso_in(days=1))
    row = target_rows(server, group_id)[0]
    # A post the platform has, from an attempt whose key has expired.
    created = sandbox.post(
        "/v1/posts",
        json={
            "account": row.external_account_id,
            "text": "Hello from Herald",
            "ref": f"{row.id}:0",
        },
        # As the connection sent it, with its token.
        headers={
            "Idempotency-Key": f"{row.idempotency_key}-0",
            **as_connection(server, row.connection_id),
        },
    ).json()
    long_ago = utc_now() - timedelta(hours=2)
    _stage_in_doubt(server, group_id, long_ago)
    body = post_when(tenant, group_id, "published")
    assert body["posts"][0]["postedId"] == created["id"]
    assert sandbox.get("/_sim/stats").json()["posts"] == 1


def test_in_doubt_not_found_by_lookup_is_sent_again(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    group_id = _create(tenant, scheduledTime=iso_in(days=1))
    long_ago = utc_now() - timedelta(hours=2)
    _stage_in_doubt(server, group_id, long_ago)
    post_when(tenant, group_id, "published")
    assert sandbox.get("/_sim/stats").json()["posts"] == 1
    assert "resend" in _attempts(server, group_id)


def test_evidence_of_a_late_success_settles_without_calling_the_platform(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    group_id = _create(tenant, scheduledTime=iso_in(days=1))
    row = target_rows(server, group_id)[0]

    async def log(session: Any) -> None:
        session.add(
            PublishAttempt(
                target_id=row.id,
                claim_token=row.claim_token,
                version=row.version,
                part=0,
                outcome="late_success",
                external_id="424242",
            )
        )

    server.transaction(log)
    _stage_in_doubt(server, group_id, utc_now())
    body = post_when(tenant, group_id, "published")
    assert body["posts"][0]["postedId"] == "424242"
    assert sandbox.get("/_sim/stats").json()["requests"] == 0


def test_unreachable_platform_for_a_day_is_outcome_unknown(
    server: LiveServer, engine: Engine, tenant: Tenant
) -> None:
    group_id = _create(tenant, scheduledTime=iso_in(days=1))
    _point_at_nothing(server, target_rows(server, group_id)[0].connection_id)
    long_ago = utc_now() - timedelta(hours=30)
    _stage_in_doubt(server, group_id, long_ago)
    body = post_when(tenant, group_id, "failed")
    assert body["posts"][0]["errorCode"] == "PUBLISH_OUTCOME_UNKNOWN"
    assert "could not confirm" in body["posts"][0]["errorMessage"]
    assert tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]["status"] == "failed"


@pytest.mark.parametrize(("sent", "expected"), [(False, "scheduled"), (True, "in_doubt")])
def test_expired_leases_are_rescued(
    server: LiveServer, tenant: Tenant, sent: bool, expected: str
) -> None:
    group_id = _create(tenant, scheduledTime=iso_in(days=1))
    before = target_rows(server, group_id)[0].claim_token
    update_target(
        server,
        group_id,
        state="publishing",
        lease_owner="dead-worker",
        lease_until=utc_now() - timedelta(seconds=1),
        sent_at=utc_now() if sent else None,
    )

    async def rescue(session: Any) -> int:
        return await PublishQueueStore(session).rescue_expired_leases(utc_now())

    assert server.transaction(rescue) == 1
    row = target_rows(server, group_id)[0]
    assert (row.state, row.lease_owner, row.claim_token) == (expected, None, before + 1)
    assert server.transaction(rescue) == 0


def test_an_edit_before_the_gate_wins_and_after_it_is_refused(
    server: LiveServer, tenant: Tenant
) -> None:
    group_id = _create(tenant)

    async def claim(session: Any) -> Any:
        return await PublishQueueStore(session).claim("w1", utc_now(), 10, timedelta(seconds=30))

    (claimed,) = server.transaction(claim)
    # Claimed but not sent: the group reads as pending, which the API refuses to edit...
    assert tenant.client.get(f"/get-post/{group_id}").json()["status"] == "pending"
    # ...so stage the edit the way the API writes it: a new version and a new fencing token.
    update_target(server, group_id, state="scheduled", claim_token=claimed.claim_token + 1)

    async def gate(session: Any) -> set[str]:
        return await PublishQueueStore(session).pass_gate(
            [(claimed.id, claimed.claim_token)], utc_now()
        )

    assert server.transaction(gate) == set()  # the stale claim may not send

    (again,) = server.transaction(claim)

    async def gate_again(session: Any) -> set[str]:
        return await PublishQueueStore(session).pass_gate(
            [(again.id, again.claim_token)], utc_now()
        )

    assert server.transaction(gate_again) == {again.id}
    refused = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "Cannot update post: post is currently in processing status"
    deleted = tenant.client.delete(f"/delete-post/{group_id}")
    assert deleted.status_code == 409
    assert deleted.json()["error"] == "Cannot delete post: post is currently in processing status"
    assert deleted.json()["code"] == "POST_IS_PROCESSING"


def test_targets_more_than_a_day_late_fail_visibly(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    group_id = _create(tenant, scheduledTime=iso_in(days=1))
    update_target(
        server,
        group_id,
        due_at=utc_now() - timedelta(hours=25),
        expire_at=utc_now() - timedelta(hours=1),
    )
    body = post_when(tenant, group_id, "failed")
    assert body["posts"][0]["errorCode"] == "TOO_LATE"
    assert sandbox.get("/_sim/stats").json()["requests"] == 0


def test_a_thread_resumes_after_a_crash_between_parts(
    server: LiveServer, tenant: Tenant, sandbox: httpx.Client, engine: Engine
) -> None:
    content = "First part of the thread.\n---\nSecond part.\n---\nThird part."
    group_id = _create(tenant, content=content, scheduledTime=iso_in(days=1))
    row = target_rows(server, group_id)[0]
    first = sandbox.post(
        "/v1/posts",
        json={
            "account": row.external_account_id,
            "text": row.thread_parts[0],
            "ref": f"{row.id}:0",
        },
        # As the connection sent it, with its token.
        headers={
            "Idempotency-Key": f"{row.idempotency_key}-0",
            **as_connection(server, row.connection_id),
        },
    ).json()
    # The worker published part 1, saved its id, then died while sending part 2.
    update_target(
        server,
        group_id,
        state="publishing",
        lease_owner="dead-worker",
        lease_until=utc_now() - timedelta(seconds=1),
        sent_at=utc_now(),
        first_sent_at=utc_now(),
        progress={"partIds": [first["id"]], "partUrls": [first["url"]]},
    )
    body = post_when(tenant, group_id, "published")
    posts = sandbox.get("/_sim/posts").json()["posts"]
    assert [p["text"] for p in posts] == row.thread_parts
    assert [p["replyTo"] for p in posts] == [None, posts[0]["id"], posts[1]["id"]]
    assert body["posts"][0]["postedId"] == first["id"]
    assert sandbox.get("/_sim/stats").json()["duplicates"] == 0


def test_a_connection_removed_before_publishing_fails_clearly(
    server: LiveServer, engine: Engine, tenant: Tenant
) -> None:
    from herald.services.connection import remove_connection

    extra = add_sandbox_connection(server, tenant.account_id)
    group_id = _create(tenant, platforms=[extra], scheduledTime=iso_in(seconds=3))

    async def remove(session: Any) -> None:
        await remove_connection(session, extra, tenant.account_id)

    server.transaction(remove)
    body = post_when(tenant, group_id, "failed")
    assert body["posts"][0]["errorCode"] == "CONNECTION_UNAVAILABLE"


def _attempts(server: LiveServer, group_id: str) -> list[str]:
    from sqlalchemy import select

    row = target_rows(server, group_id)[0]

    async def read(session: Any) -> list[str]:
        query = (
            select(PublishAttempt.outcome)
            .where(PublishAttempt.target_id == row.id)
            .order_by(PublishAttempt.at, PublishAttempt.id)
        )
        return list((await session.scalars(query)).all())

    return server.transaction(read)


def test_a_failing_lookup_leaves_the_target_in_doubt(
    server: LiveServer, engine: Engine, tenant: Tenant
) -> None:
    group_id = _create(tenant, scheduledTime=iso_in(days=1))
    _point_at_nothing(server, target_rows(server, group_id)[0].connection_id)
    long_ago = utc_now() - timedelta(hours=2)
    _stage_in_doubt(server, group_id, long_ago)
    wait_until(lambda: "in_doubt" in _attempts(server, group_id))
    assert target_rows(server, group_id)[0].state in ("in_doubt", "reconciling")
    assert tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]["status"] == "processing"


def test_blind_retry_duplicates_which_is_why_it_is_off(
    server: LiveServer, tenant: Tenant, sandbox: httpx.Client, engine: Engine
) -> None:
    """The negative control: re-sending an in-doubt post with a new key posts it twice."""
    server.run(engine.stop(grace=1))
    settings = engine.settings.model_copy(update={"engine_unsafe_blind_retry": True})

    with running_engine(server, settings):
        _script(sandbox, "lost_response", hang_s=3)
        group_id = _create(tenant)
        post_when(tenant, group_id, "published")
        assert sandbox.get("/_sim/stats").json()["duplicates"] == 1


def _point_at_nothing(server: LiveServer, connection_id: str) -> None:
    """Aim a connection at a closed port, so every call to its platform fails to connect."""
    from herald.models import Connection

    async def unreachable(session: Any) -> None:
        connection = await session.get(Connection, connection_id)
        connection.options = {"baseUrl": "http://127.0.0.1:9"}  # nothing listens there

    server.transaction(unreachable)


def _stage_in_doubt(server: LiveServer, group_id: str, since: datetime) -> None:
    """What a worker that sent the post at `since` and died before the answer leaves behind."""
    update_target(
        server, group_id, state="in_doubt", sent_at=since, first_sent_at=since, in_doubt_since=since
    )
