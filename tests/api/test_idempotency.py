"""Idempotency-Key on create-post and update-post (publora-latest §4), on both databases."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from herald.domain.timestamps import utc_now
from herald.models import IdempotencyRecord
from herald.services import idempotency
from idempotency_support import IN_FLIGHT, assert_one_post, concurrent_creates, post_count
from support import LiveServer, Tenant, add_sandbox_connection, error_body, iso_in

CONFLICT = error_body(
    "Idempotency key was already used with a different request body", "IDEMPOTENCY_KEY_CONFLICT"
)


def _post(tenant: Tenant, key: str, **fields: Any) -> httpx.Response:
    body = {"content": "Once only", "platforms": [tenant.platform_id], **fields}
    return tenant.client.post("/create-post", json=body, headers={"Idempotency-Key": key})


def _set_record(server: LiveServer, account_id: str, key: str, **values: Any) -> None:
    async def write(session: Any) -> None:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key)
            .values(**values)
        )

    server.transaction(write)


def test_a_repeat_replays_the_first_answer_and_creates_nothing(
    server: LiveServer, tenant: Tenant
) -> None:
    when = iso_in(days=1)
    first = _post(tenant, "k-1", scheduledTime=when)
    assert first.status_code == 200
    again = _post(tenant, "k-1", scheduledTime=when)
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert post_count(server, tenant.account_id) == 1


def test_key_order_does_not_matter_but_the_body_does(server: LiveServer, tenant: Tenant) -> None:
    first = _post(tenant, "k-2", scheduledTime=iso_in(days=1))
    body = dict(reversed(list(_body_of(first.request).items())))
    reordered = tenant.client.post("/create-post", json=body, headers={"Idempotency-Key": "k-2"})
    assert reordered.content == first.content

    other = _post(tenant, "k-2", content="Something else")
    assert (other.status_code, other.json()) == (422, CONFLICT)
    assert post_count(server, tenant.account_id) == 1


def _body_of(request: httpx.Request) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(request.content)
    return value


def test_without_a_key_every_call_creates(server: LiveServer, tenant: Tenant) -> None:
    for _ in range(2):
        body = {"content": "Twice", "platforms": [tenant.platform_id]}
        assert tenant.client.post("/create-post", json=body).status_code == 200
    assert post_count(server, tenant.account_id) == 2


def test_keys_belong_to_the_acting_user(
    server: LiveServer, new_tenant: Callable[..., Tenant]
) -> None:
    acme, other = new_tenant("Acme"), new_tenant("Other")
    assert _post(acme, "shared").status_code == 200
    assert _post(other, "shared").status_code == 200  # another account: no collision
    assert post_count(server, acme.account_id) == 1
    assert post_count(server, other.account_id) == 1

    user = acme.client.post("/workspace/users", json={"username": "ada@example.com"}).json()
    user_platform = add_sandbox_connection(server, user["user"]["_id"])
    as_user = {"x-publora-user-id": user["user"]["_id"], "Idempotency-Key": "shared"}
    body = {"content": "Once only", "platforms": [user_platform]}
    managed = acme.client.post("/create-post", json=body, headers=as_user)
    assert managed.status_code == 200  # the managed user's own keys: not a 422 from the owner's
    assert post_count(server, user["user"]["_id"]) == 1


def test_an_error_answer_frees_the_key(server: LiveServer, tenant: Tenant) -> None:
    refused = _post(tenant, "k-3", platforms=["sandbox-nope"])
    assert refused.status_code == 400
    fixed = _post(tenant, "k-3")
    assert fixed.status_code == 200
    assert post_count(server, tenant.account_id) == 1


def test_a_key_in_flight_answers_409_until_its_lease_runs_out(
    server: LiveServer, tenant: Tenant
) -> None:
    body = {"content": "Once only", "platforms": [tenant.platform_id]}
    print_ = idempotency.fingerprint("create-post", None, body)

    async def held_elsewhere(session: Any) -> None:
        claimed = await idempotency.claim(session, tenant.account_id, "k-4", print_, utc_now())
        assert isinstance(claimed, idempotency.Claim)

    server.transaction(held_elsewhere)  # as another replica does while it works
    busy = _post(tenant, "k-4")
    assert (busy.status_code, busy.json()) == (409, IN_FLIGHT)
    assert post_count(server, tenant.account_id) == 0

    _set_record(server, tenant.account_id, "k-4", lease_until=utc_now() - timedelta(seconds=1))
    taken_over = _post(tenant, "k-4")
    assert taken_over.status_code == 200
    assert _post(tenant, "k-4").content == taken_over.content
    assert post_count(server, tenant.account_id) == 1


def test_a_superseded_claim_changes_nothing(server: LiveServer, tenant: Tenant) -> None:
    now = utc_now()

    async def stale_holder_comes_back(session: Any) -> str:
        stale = await idempotency.claim(session, tenant.account_id, "k-5", "f" * 64, now)
        assert isinstance(stale, idempotency.Claim)
        later = now + idempotency.LEASE + timedelta(seconds=1)
        taker = await idempotency.claim(session, tenant.account_id, "k-5", "f" * 64, later)
        assert isinstance(taker, idempotency.Claim)
        try:
            await idempotency.finish(session, stale, 200, "{}")
        except idempotency.IdempotencyInFlightError as exc:
            return exc.message
        return "recorded"

    assert server.transaction(stale_holder_comes_back) == idempotency.SUPERSEDED


def test_after_24_hours_the_key_is_new_again(server: LiveServer, tenant: Tenant) -> None:
    first = _post(tenant, "k-6")
    _set_record(server, tenant.account_id, "k-6", created_at=utc_now() - timedelta(hours=24))
    second = _post(tenant, "k-6")
    assert second.status_code == 200
    assert second.json()["postGroupId"] != first.json()["postGroupId"]
    assert post_count(server, tenant.account_id) == 2

    async def prune(session: Any) -> int:
        return await idempotency.prune(session, utc_now() + timedelta(hours=25))

    assert server.transaction(prune) == 1


def test_update_post_replays_and_is_not_applied_twice(tenant: Tenant) -> None:
    group_id = _post(tenant, "create", scheduledTime=iso_in(days=1)).json()["postGroupId"]
    first_time, second_time = iso_in(days=2), iso_in(days=3)
    key = {"Idempotency-Key": "move"}
    first = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": first_time}, headers=key
    )
    assert first.status_code == 200
    moved = tenant.client.put(f"/update-post/{group_id}", json={"scheduledTime": second_time})
    assert moved.status_code == 200

    replayed = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": first_time}, headers=key
    )
    assert (replayed.status_code, replayed.content) == (200, first.content)
    assert tenant.client.get(f"/get-post/{group_id}").json()["scheduledTime"] == second_time


def test_one_key_on_another_post_or_operation_is_a_conflict(tenant: Tenant) -> None:
    first_id = _post(tenant, "a", scheduledTime=iso_in(days=1)).json()["postGroupId"]
    second_id = _post(tenant, "b", scheduledTime=iso_in(days=1)).json()["postGroupId"]
    body = {"scheduledTime": iso_in(days=2)}
    key = {"Idempotency-Key": "u"}
    assert tenant.client.put(f"/update-post/{first_id}", json=body, headers=key).status_code == 200
    other_post = tenant.client.put(f"/update-post/{second_id}", json=body, headers=key)
    assert (other_post.status_code, other_post.json()) == (422, CONFLICT)
    create_with_update_key = _post(tenant, "u")
    assert (create_with_update_key.status_code, create_with_update_key.json()) == (422, CONFLICT)


def test_key_limits(tenant: Tenant) -> None:
    too_long = _post(tenant, "x" * 256)
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "FIELD_TOO_LONG"
    assert too_long.json()["field"] == "Idempotency-Key"
    empty = _post(tenant, "")
    assert empty.status_code == 400
    assert empty.json()["code"] == "INVALID_IDEMPOTENCY_KEY"
    assert _post(tenant, "x" * 255).status_code == 200


def test_fifty_concurrent_creates_with_one_key_make_one_post(
    server: LiveServer, tenant: Tenant
) -> None:
    answers = asyncio.run(concurrent_creates([server.base_url], tenant, "burst", 50))
    assert_one_post(answers)
    assert post_count(server, tenant.account_id) == 1


def test_fifty_concurrent_creates_without_a_key_make_fifty_posts(
    server: LiveServer, tenant: Tenant
) -> None:
    # Before the rate limiter counted outside the auth transaction, this exhausted the
    # PostgreSQL pool: each request held one connection while waiting for a second.
    body = {"content": "Each one", "platforms": [tenant.platform_id]}

    async def burst() -> list[int]:
        headers = {"x-publora-key": tenant.api_key}
        async with httpx.AsyncClient(
            base_url=server.base_url + "/api/v1", headers=headers, timeout=60
        ) as client:
            answers = await asyncio.gather(
                *(client.post("/create-post", json=body) for _ in range(50))
            )
        return [answer.status_code for answer in answers]

    assert asyncio.run(burst()) == [200] * 50
    assert post_count(server, tenant.account_id) == 50
