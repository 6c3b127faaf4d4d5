"""A webhook receiver that is down for an hour: every delivery is retried on the documented
schedule (30 s, doubling, up to an hour), later events wait behind the first, and once the
receiver is back every event arrives once, in order. The hour passes by moving the deliveries'
times back in the database, as the clock would have moved them; nothing sleeps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from herald.app import SANDBOX_PATH
from herald.engine.dispatcher import Engine
from herald.models import WebhookDelivery
from support import LiveServer, Tenant, create_post, iso_in, running_engine, wait_until
from webhook_support import Receiver, webhook_receiver

# README, Webhooks: "retries failures … after 30 s, doubling up to an hour". Seven failed
# attempts are 3,810 s of waiting: the hour is over before the eighth.
DOCUMENTED_WAITS = [30, 60, 120, 240, 480, 960, 1920]


@pytest.fixture
def outage_engine(server: LiveServer, sandbox: httpx.Client) -> Iterator[Engine]:
    """The default retry schedule; only the delivery poll is quick."""
    settings = server.settings.model_copy(
        update={"sandbox_url": server.base_url + SANDBOX_PATH, "webhook_poll_seconds": 0.05}
    )
    assert settings.webhook_retry_base_seconds == 30.0
    with running_engine(server, settings) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def _deliveries(server: LiveServer) -> list[WebhookDelivery]:
    async def read(session: Any) -> list[WebhookDelivery]:
        return list((await session.scalars(select(WebhookDelivery).order_by("seq"))).all())

    return server.transaction(read)


def _move_clock(server: LiveServer, by: timedelta) -> None:
    """`by` goes by for the queued deliveries: their event and their next try are that much
    further back."""

    async def age(session: Any) -> None:
        for delivery in (await session.scalars(select(WebhookDelivery))).all():
            delivery.created_at -= by
            delivery.next_attempt_at -= by
            if delivery.last_attempt_at is not None:
                delivery.last_attempt_at -= by

    server.transaction(age)


def _attempted(server: LiveServer, attempts: int) -> list[WebhookDelivery]:
    """The deliveries once the first one's `attempts`-th try is recorded."""
    return wait_until(
        lambda: (
            (rows := _deliveries(server))[0].attempts == attempts
            and rows[0].last_attempt_at is not None
            and rows
        )
    )


def test_a_receiver_down_for_an_hour_gets_every_event_afterwards_in_order(
    server: LiveServer, outage_engine: Engine, tenant: Tenant, receiver: Receiver
) -> None:
    body = {"name": "Down", "url": receiver.url, "events": ["post.scheduled"]}
    created = tenant.client.post("/webhooks", json=body).json()["webhook"]
    receiver.secret = created["secret"]
    receiver.script = [503] * 100  # down
    groups = [create_post(tenant, scheduledTime=iso_in(days=1 + n)) for n in range(3)]

    waited = timedelta(0)
    for attempts, documented in enumerate(DOCUMENTED_WAITS, 1):
        first, *later = _attempted(server, attempts)
        assert first.status == "pending"
        assert first.last_status_code == 503
        wait = first.next_attempt_at - first.last_attempt_at
        assert wait == timedelta(seconds=documented)
        # In order: nothing after the first event is tried while it is pending.
        assert [(d.status, d.attempts) for d in later] == [("pending", 0)] * 2
        waited += wait
        if waited > timedelta(hours=1):
            with receiver.lock:
                receiver.script.clear()  # back up before the next try is due
        _move_clock(server, wait)
    assert waited > timedelta(hours=1)

    wait_until(lambda: len(receiver.accepted) == 3)
    order = [json.loads(r.body)["data"]["postGroupId"] for r in receiver.accepted]
    assert order == groups
    assert len(receiver.refused) == len(DOCUMENTED_WAITS)
    log = tenant.client.get(f"/webhooks/{created['_id']}/deliveries").json()["deliveries"]
    assert sorted((d["status"], d["attempts"]) for d in log) == [
        ("delivered", 1),
        ("delivered", 1),
        ("delivered", len(DOCUMENTED_WAITS) + 1),
    ]
    listed = tenant.client.get("/webhooks").json()["webhooks"][0]
    assert (listed["isActive"], listed["failureCount"]) == (True, 0)
