"""Webhook deliveries end to end: the engine publishes to the sandbox, the events reach a real
loopback receiver that checks both signatures from the raw bytes; retries keep the order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from herald.app import SANDBOX_PATH
from herald.domain.timestamps import utc_now
from herald.engine.dispatcher import Engine
from herald.models import WebhookDelivery
from support import (
    LiveServer,
    Tenant,
    iso_in,
    post_when,
    running_engine,
    update_target,
    wait_until,
)
from webhook_support import Receiver, webhook_receiver

ALL = ["post.scheduled", "post.published", "post.failed"]


@pytest.fixture
def hooks_engine(server: LiveServer, sandbox: httpx.Client) -> Iterator[Engine]:
    settings = server.settings.model_copy(
        update={
            "sandbox_url": server.base_url + SANDBOX_PATH,
            "engine_http_timeout_seconds": 1.0,
            "engine_settle_seconds": 0.0,
            "engine_rescue_interval_seconds": 0.2,
            "webhook_retry_base_seconds": 0.1,
            "webhook_poll_seconds": 0.05,
        }
    )
    with running_engine(server, settings) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def _subscribe(tenant: Tenant, receiver: Receiver, events: list[str] = ALL) -> str:
    body = {"name": "Test", "url": receiver.url, "events": events}
    created = tenant.client.post("/webhooks", json=body).json()["webhook"]
    receiver.secret = created["secret"]
    return str(created["_id"])


def _create(tenant: Tenant, **fields: Any) -> str:
    # No time given: due now (a create without one is a draft).
    body = {"content": "Hello hooks", "platforms": [tenant.platform_id], "scheduledTime": iso_in()}
    body.update(fields)
    response = tenant.client.post("/create-post", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["postGroupId"])


def test_a_published_post_reaches_the_receiver_signed(
    hooks_engine: Engine, tenant: Tenant, receiver: Receiver
) -> None:
    _subscribe(tenant, receiver)
    group_id = _create(tenant)
    post = post_when(tenant, group_id, "published")
    wait_until(lambda: len(receiver.accepted) == 2)
    assert receiver.refused == []
    scheduled, published = receiver.accepted
    assert receiver.events() == ["post.scheduled", "post.published"]
    envelope = json.loads(published.body)
    assert set(envelope) == {"version", "event", "timestamp", "data"}
    assert (envelope["version"], envelope["event"]) == ("1", "post.published")
    [target] = post["posts"]
    data = envelope["data"]
    assert set(data) == {
        "postId", "postGroupId", "platform", "platformId", "postedId", "permalink", "publishedAt",
    }  # fmt: skip
    assert (data["postGroupId"], data["platform"]) == (group_id, "sandbox")
    assert data["postedId"] == target["postedId"]
    assert f"sandbox-{data['platformId']}" == tenant.platform_id
    assert published.headers["content-type"] == "application/json"
    assert published.headers["x-herald-delivery"]
    assert json.loads(scheduled.body)["data"]["platforms"] == [tenant.platform_id]


def test_a_failed_post_sends_post_failed(
    hooks_engine: Engine, tenant: Tenant, receiver: Receiver, sandbox: httpx.Client
) -> None:
    _subscribe(tenant, receiver, ["post.failed"])
    sandbox.post("/_sim/script", json={"faults": ["rejected"]}).raise_for_status()
    group_id = _create(tenant)
    post_when(tenant, group_id, "failed")
    wait_until(lambda: receiver.events() == ["post.failed"])
    data = json.loads(receiver.accepted[0].body)["data"]
    assert set(data) == {"postId", "postGroupId", "platform", "error", "failedAt"}
    assert set(data["error"]) == {"code", "message"}


def test_a_post_too_late_sends_post_failed(
    server: LiveServer, hooks_engine: Engine, tenant: Tenant, receiver: Receiver
) -> None:
    _subscribe(tenant, receiver, ["post.failed"])
    group_id = _create(tenant, scheduledTime=iso_in(days=1))
    update_target(
        server,
        group_id,
        due_at=utc_now() - timedelta(hours=25),
        expire_at=utc_now() - timedelta(hours=1),
    )
    post_when(tenant, group_id, "failed")
    wait_until(lambda: receiver.events() == ["post.failed"])
    assert json.loads(receiver.accepted[0].body)["data"]["error"]["code"] == "TOO_LATE"


def test_failed_attempts_are_retried_in_order_and_logged(
    hooks_engine: Engine, tenant: Tenant, receiver: Receiver
) -> None:
    webhook_id = _subscribe(tenant, receiver, ["post.scheduled"])
    receiver.script = [500, 503, 500]  # down for three attempts
    first = _create(tenant, scheduledTime=iso_in(days=1))
    second = _create(tenant, scheduledTime=iso_in(days=2))
    wait_until(lambda: len(receiver.accepted) == 2)
    order = [json.loads(r.body)["data"]["postGroupId"] for r in receiver.accepted]
    assert order == [first, second]
    # The receiver has its 200 before Herald records it, so wait for the log to catch up.
    log = wait_until(lambda: _settled_log(tenant, webhook_id))
    assert [(d["status"], d["attempts"]) for d in log] == [("delivered", 1), ("delivered", 4)]
    assert log[1]["lastStatusCode"] == 200
    listed = tenant.client.get("/webhooks").json()["webhooks"][0]
    assert (listed["failureCount"], listed["isActive"]) == (0, True)
    assert listed["lastTriggeredAt"] is not None


def _settled_log(tenant: Tenant, webhook_id: str) -> list[dict[str, Any]] | None:
    """The delivery log once no delivery in it is pending any more."""
    log: list[dict[str, Any]] = tenant.client.get(f"/webhooks/{webhook_id}/deliveries").json()[
        "deliveries"
    ]
    return log if all(d["status"] != "pending" for d in log) else None


def test_redeliver_sends_the_same_body_again(
    hooks_engine: Engine, tenant: Tenant, receiver: Receiver
) -> None:
    webhook_id = _subscribe(tenant, receiver, ["post.scheduled"])
    _create(tenant, scheduledTime=iso_in(days=1))
    wait_until(lambda: len(receiver.accepted) == 1)
    [original] = tenant.client.get(f"/webhooks/{webhook_id}/deliveries").json()["deliveries"]
    again = tenant.client.post(f"/webhooks/{webhook_id}/deliveries/{original['_id']}/redeliver")
    assert again.status_code == 202
    assert again.json()["delivery"]["status"] == "pending"
    wait_until(lambda: len(receiver.accepted) == 2)
    assert receiver.accepted[0].body == receiver.accepted[1].body
    assert (
        receiver.accepted[0].headers["x-herald-delivery"]
        != receiver.accepted[1].headers["x-herald-delivery"]
    )


def test_five_given_up_deliveries_disable_the_webhook(
    server: LiveServer, hooks_engine: Engine, tenant: Tenant, receiver: Receiver
) -> None:
    webhook_id = _subscribe(tenant, receiver, ["post.scheduled"])
    receiver.script = [500] * 100
    hooks_engine_paused = [_create(tenant, scheduledTime=iso_in(days=1 + n)) for n in range(5)]
    assert len(hooks_engine_paused) == 5
    _age_deliveries(server)  # their 24 hours are over: the next failure gives each up
    wait_until(lambda: tenant.client.get("/webhooks").json()["webhooks"][0]["isActive"] is False)
    listed = tenant.client.get("/webhooks").json()["webhooks"][0]
    assert listed["failureCount"] == 5
    log = tenant.client.get(f"/webhooks/{webhook_id}/deliveries").json()["deliveries"]
    assert {d["status"] for d in log} == {"failed"}
    # Disabled: no new deliveries are queued.
    _create(tenant, scheduledTime=iso_in(days=9))
    assert len(tenant.client.get(f"/webhooks/{webhook_id}/deliveries").json()["deliveries"]) == 5


def _age_deliveries(server: LiveServer) -> None:
    async def age(session: Any) -> None:
        await session.execute(
            update(WebhookDelivery).values(created_at=utc_now() - timedelta(hours=25))
        )

    server.transaction(age)
