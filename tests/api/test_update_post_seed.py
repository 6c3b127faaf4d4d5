"""update-post: every example and error row of the seed document, plus DESIGN §3 items 1–2.

The seed (`update-post.seed.md`) is the contract: status codes and bodies are asserted exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from herald.domain.timestamps import parse_timestamp
from support import (
    LiveServer,
    Tenant,
    add_sandbox_connection,
    error_body,
    force_target_states,
    iso_in,
    set_group_time,
)
from support import create_post as create

# --- The seed's examples ----------------------------------------------------------------------


def test_reschedule_a_post(tenant: Tenant) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=2))
    new_time = iso_in(days=3)
    response = tenant.client.put(f"/update-post/{group_id}", json={"scheduledTime": new_time})
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": "Post updated successfully",
        "postGroup": {"_id": group_id, "status": "scheduled", "scheduledTime": new_time},
    }
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["scheduledTime"] == new_time
    assert [p["status"] for p in got["posts"]] == ["scheduled"]


def test_change_a_draft_to_scheduled(tenant: Tenant) -> None:
    group_id = create(tenant, status="draft")
    when = iso_in(days=5)
    response = tenant.client.put(
        f"/update-post/{group_id}", json={"status": "scheduled", "scheduledTime": when}
    )
    assert response.status_code == 200
    assert response.json()["postGroup"] == {
        "_id": group_id,
        "status": "scheduled",
        "scheduledTime": when,
    }


def test_pause_a_scheduled_post_keeps_its_time(tenant: Tenant) -> None:
    when = iso_in(days=1)
    group_id = create(tenant, scheduledTime=when)
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert response.status_code == 200
    assert response.json()["postGroup"] == {
        "_id": group_id,
        "status": "draft",
        "scheduledTime": when,
    }
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["status"] == "draft"
    assert got["posts"][0]["status"] == "draft"
    # ...and re-scheduling it needs no time: the stored one is still in the future.
    resumed = tenant.client.put(f"/update-post/{group_id}", json={"status": "scheduled"})
    assert resumed.json()["postGroup"] == {
        "_id": group_id,
        "status": "scheduled",
        "scheduledTime": when,
    }


def test_the_curl_example_body_with_a_z_time(tenant: Tenant) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    future = iso_in(days=30)[:19] + "Z"  # "2026-03-15T10:00:00Z" style, no fraction
    response = tenant.client.put(
        f"/update-post/{group_id}",
        content=f'{{"scheduledTime": "{future}"}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["postGroup"]["scheduledTime"] == future[:19] + ".000Z"


# --- The seed's error table -------------------------------------------------------------------


@pytest.mark.parametrize("status", ["published", "pending", "processing", "Draft", "", 1, True])
def test_status_must_be_draft_or_scheduled(tenant: Tenant, status: object) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": status})
    assert response.status_code == 400
    assert response.json() == error_body("Status must be draft or scheduled", "INVALID_STATUS")


@pytest.mark.parametrize("state", ["published", "failed", "outcome_unknown"])
def test_cannot_update_published_or_failed_posts(
    server: LiveServer, tenant: Tenant, state: str
) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    force_target_states(server, group_id, [state], sent=True)
    for body in ({"status": "draft"}, {"scheduledTime": iso_in(days=2)}, {"status": "scheduled"}):
        response = tenant.client.put(f"/update-post/{group_id}", json=body)
        assert response.status_code == 400
        assert response.json() == error_body(
            "Cannot update published or failed posts", "POST_NOT_EDITABLE"
        )


def test_partially_published_counts_as_published(server: LiveServer, tenant: Tenant) -> None:
    second = add_sandbox_connection(server, tenant.account_id)
    group_id = create(tenant, scheduledTime=iso_in(days=1), platforms=[tenant.platform_id, second])
    force_target_states(server, group_id, ["published", "failed"], sent=True)
    assert tenant.client.get(f"/get-post/{group_id}").json()["status"] == "partially_published"
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert response.status_code == 400
    assert response.json() == error_body(
        "Cannot update published or failed posts", "POST_NOT_EDITABLE"
    )


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-15 10:00:00",
        "2026-03-15",
        "March 15, 2026",
        "03/15/2026",
        "tomorrow at 9am",
        "2030-03-01T14:00",
        "2030-03-15T10:00:00",
        "2030-02-30T10:00:00Z",
        "",
        12345,
        ["2030-03-15T10:00:00Z"],
    ],
)
def test_invalid_scheduled_time_when_malformed(tenant: Tenant, value: object) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    response = tenant.client.put(f"/update-post/{group_id}", json={"scheduledTime": value})
    assert response.status_code == 400
    assert response.json() == error_body("Invalid scheduled time", "INVALID_SCHEDULED_TIME")


def test_invalid_scheduled_time_when_in_the_past(tenant: Tenant) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    for past in (iso_in(seconds=-5), "2020-01-01T00:00:00.000Z"):
        response = tenant.client.put(f"/update-post/{group_id}", json={"scheduledTime": past})
        assert response.status_code == 400
        assert response.json() == error_body("Invalid scheduled time", "INVALID_SCHEDULED_TIME")


@pytest.mark.parametrize("headers", [{}, {"x-publora-key": "sk_nope.0000"}, {"x-publora-key": ""}])
def test_invalid_api_key(server: LiveServer, tenant: Tenant, headers: dict[str, str]) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    response = httpx.put(
        f"{server.base_url}/api/v1/update-post/{group_id}",
        json={"status": "draft"},
        headers=headers,
    )
    assert response.status_code == 401
    assert response.json() == error_body("Invalid API key", "INVALID_API_KEY")


@pytest.mark.parametrize(
    "group_id", ["507f1f77bcf86cd799439011", "pg_abc123", "not-an-id", "ffffffffffffffffffffffff"]
)
def test_post_group_not_found(tenant: Tenant, group_id: str) -> None:
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert response.status_code == 404
    assert response.json() == error_body("Post group not found", "POST_GROUP_NOT_FOUND")


def test_another_accounts_group_is_not_found(
    tenant: Tenant, new_tenant: Callable[..., Tenant]
) -> None:
    other = new_tenant("Other")
    group_id = create(other, scheduledTime=iso_in(days=1))
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert response.status_code == 404
    assert response.json()["error"] == "Post group not found"
    assert other.client.get(f"/get-post/{group_id}").json()["status"] == "scheduled"


# --- DESIGN §3 items 1–2 ----------------------------------------------------------------------


def test_empty_body_asks_for_a_field(tenant: Tenant) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    for send in ({"json": {}}, {"content": b""}, {"json": {"content": "", "platforms": None}}):
        response = tenant.client.put(f"/update-post/{group_id}", **send)  # type: ignore[arg-type]
        assert response.status_code == 400
        assert response.json() == error_body(
            "Either status or scheduledTime must be provided", "NOTHING_TO_UPDATE"
        )


@pytest.mark.parametrize("state", ["publishing", "in_doubt", "reconciling"])
def test_a_group_being_sent_cannot_be_updated(
    server: LiveServer, tenant: Tenant, state: str
) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    force_target_states(server, group_id, [state], sent=state != "publishing")
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert response.status_code == 400
    assert response.json() == error_body(
        "Cannot update post: post is currently in processing status", "POST_IN_PROGRESS"
    )


def test_scheduled_time_alone_schedules_a_draft(tenant: Tenant) -> None:
    group_id = create(tenant, status="draft")
    when = iso_in(hours=3)
    response = tenant.client.put(f"/update-post/{group_id}", json={"scheduledTime": when})
    assert response.json()["postGroup"] == {
        "_id": group_id,
        "status": "scheduled",
        "scheduledTime": when,
    }


def test_draft_with_a_time_stays_a_draft(tenant: Tenant) -> None:
    group_id = create(tenant, status="draft")
    when = iso_in(hours=3)
    response = tenant.client.put(
        f"/update-post/{group_id}", json={"status": "draft", "scheduledTime": when}
    )
    assert response.json()["postGroup"] == {
        "_id": group_id,
        "status": "draft",
        "scheduledTime": when,
    }


def test_scheduling_a_draft_without_any_time_makes_it_due_now(tenant: Tenant) -> None:
    """publora-latest §2.15: "If there is no time at all when the result is scheduled, it
    defaults to now" (the seed is silent: its time row is about past or malformed times)."""
    group_id = create(tenant, status="draft")  # no time
    before = datetime.now(UTC).replace(microsecond=0)
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "scheduled"})
    assert response.status_code == 200, response.text
    group = response.json()["postGroup"]
    assert group["status"] == "scheduled"
    assert before <= parse_timestamp(group["scheduledTime"]) <= datetime.now(UTC)


def test_scheduling_a_draft_whose_time_has_passed_is_an_invalid_time(
    server: LiveServer, tenant: Tenant
) -> None:
    """The seed's row: a time in the past, here the one the draft kept."""
    group_id = create(tenant, status="draft", scheduledTime=iso_in(days=1))
    set_group_time(server, group_id, datetime(2020, 1, 1, tzinfo=UTC))
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "scheduled"})
    assert response.status_code == 400
    assert response.json() == error_body("Invalid scheduled time", "INVALID_SCHEDULED_TIME")


def test_scheduled_time_is_left_out_when_the_group_has_none(tenant: Tenant) -> None:
    group_id = create(tenant, status="draft")
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert response.status_code == 200
    assert response.json()["postGroup"] == {"_id": group_id, "status": "draft"}


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2030-03-15T10:00:00Z", "2030-03-15T10:00:00.000Z"),
        ("2030-03-15T10:00:00.5Z", "2030-03-15T10:00:00.500Z"),
        ("2030-03-15T10:00:00.123456z", "2030-03-15T10:00:00.123Z"),
        ("2030-03-15T10:00:00.999999+00:00", "2030-03-15T10:00:00.999Z"),
        ("2030-03-01T09:00:00-05:00", "2030-03-01T14:00:00.000Z"),
        ("2030-03-01T01:30:00+05:30", "2030-02-28T20:00:00.000Z"),
    ],
)
def test_times_are_normalised_to_utc_milliseconds(tenant: Tenant, sent: str, stored: str) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    response = tenant.client.put(f"/update-post/{group_id}", json={"scheduledTime": sent})
    assert response.json()["postGroup"]["scheduledTime"] == stored


def test_extra_fields_are_ignored(tenant: Tenant) -> None:
    group_id = create(tenant, scheduledTime=iso_in(days=1))
    when = iso_in(days=4)
    response = tenant.client.put(
        f"/update-post/{group_id}",
        json={"scheduledTime": when, "content": "", "platforms": None, "whatever": 1},
    )
    assert response.status_code == 200
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["content"] == "Hello from Herald"
    assert got["scheduledTime"] == when


# --- platformSettings (publora-latest §2.15, §5.1) --------------------------------------------


def test_platform_settings_are_merged_per_platform(tenant: Tenant) -> None:
    group_id = create(
        tenant,
        scheduledTime=iso_in(days=1),
        platformSettings={"youtube": {"privacy": "private", "title": "T"}},
    )
    response = tenant.client.put(
        f"/update-post/{group_id}",
        json={
            "platformSettings": {"youtube": {"privacy": "public"}, "threads": {"replyControl": ""}}
        },
    )
    assert response.status_code == 200, response.text
    assert tenant.client.get(f"/get-post/{group_id}").json()["platformSettings"] == {
        "youtube": {"privacy": "public", "title": "T"},
        "threads": {"replyControl": ""},
    }


def test_unknown_platform_settings_change_nothing(tenant: Tenant) -> None:
    group_id = create(tenant, status="draft")
    response = tenant.client.put(
        f"/update-post/{group_id}",
        json={"scheduledTime": iso_in(days=1), "platformSettings": {"youtube": {"typo": 1}}},
    )
    assert response.status_code == 400
    assert response.json() == {
        **error_body("Unknown platformSettings path: youtube.typo", "PLATFORM_SETTING_UNKNOWN"),
        "field": "youtube.typo",
    }
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert (got["status"], got["platformSettings"]) == ("draft", {})
