"""GET /post-logs/:postGroupId (publora-latest §2.2, Publora's post-logs page): every platform
call Herald made for a group, oldest first, in Publora's PostLog shape, and only the owner's."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from herald.engine.dispatcher import Engine
from herald.models import PublishAttempt
from support import (
    LiveServer,
    Tenant,
    create_post,
    error_body,
    post_when,
    target_rows,
    update_target,
)

LOG_KEYS = {
    "_id",
    "postGroupId",
    "postId",
    "platform",
    "event",
    "httpStatus",
    "metadata",
    "createdAt",
    "updatedAt",
    "__v",
}


def test_a_retried_then_published_post_logs_both_calls_oldest_first(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    sandbox.post("/_sim/script", json={"faults": ["unavailable"]}).raise_for_status()
    group_id = create_post(tenant)
    update_target_when_retrying(server, engine, tenant, group_id)
    post_when(tenant, group_id, "published")
    response = tenant.client.get(f"/post-logs/{group_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    logs = body["logs"]
    assert [entry["event"] for entry in logs] == ["publish_retry", "publish_succeeded"]
    retry, success = logs
    assert set(retry) == LOG_KEYS | {"error"}
    assert set(success) == LOG_KEYS  # no error: omitted, not null
    assert retry["httpStatus"] == 503
    assert retry["metadata"] == {"outcome": "retry", "part": 0, "retryable": True}
    assert success["httpStatus"] is None
    posted = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
    assert success["metadata"] == {
        "outcome": "published",
        "part": 0,
        "retryable": False,
        "postedId": posted["postedId"],
    }
    for entry in logs:
        assert entry["postGroupId"] == group_id
        assert entry["platform"] == "sandbox"
        assert entry["__v"] == 0
        assert entry["createdAt"] == entry["updatedAt"]
    assert retry["postId"] == success["postId"]
    assert retry["createdAt"] <= success["createdAt"]


def update_target_when_retrying(
    server: LiveServer, engine: Engine, tenant: Tenant, group_id: str
) -> None:
    """Skip the retry's backoff once the first call has failed."""
    from herald.domain.timestamps import utc_now
    from support import wait_until

    wait_until(lambda: target_rows(server, group_id)[0].attempt == 1)
    if target_rows(server, group_id)[0].state == "scheduled":
        update_target(server, group_id, due_at=utc_now())
        engine.wake()


def test_a_draft_has_an_empty_log(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    assert tenant.client.get(f"/post-logs/{group_id}").json() == {"success": True, "logs": []}


def test_the_log_stops_at_the_first_hundred_entries(server: LiveServer, tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    target_id = target_rows(server, group_id)[0].id

    async def log_many(session: object) -> None:
        for n in range(105):
            session.add(  # type: ignore[attr-defined]
                PublishAttempt(target_id=target_id, claim_token=n, version=1, outcome="retry")
            )

    server.transaction(log_many)
    logs = tenant.client.get(f"/post-logs/{group_id}").json()["logs"]
    assert len(logs) == 100
    assert [entry["createdAt"] for entry in logs] == sorted(entry["createdAt"] for entry in logs)


def test_another_tenants_or_a_malformed_id_is_not_found(
    tenant: Tenant, new_tenant: Callable[..., Tenant]
) -> None:
    group_id = create_post(tenant, status="draft")
    stranger = new_tenant("Other")
    for client, path in (
        (stranger.client, f"/post-logs/{group_id}"),
        (tenant.client, "/post-logs/not-an-id"),
        (tenant.client, "/post-logs/" + "0" * 24),
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == error_body("Post group not found", "POST_GROUP_NOT_FOUND")


def test_the_log_needs_a_key(anonymous: httpx.Client, tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    assert anonymous.get(f"/post-logs/{group_id}").status_code == 401
