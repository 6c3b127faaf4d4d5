"""delete-post: which groups may go, and that they really go."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from support import (
    LiveServer,
    Tenant,
    add_sandbox_connection,
    create_post,
    error_body,
    force_target_states,
)


@pytest.mark.parametrize(
    "fields", [{"status": "draft"}, {"scheduledTime": "2031-01-01T00:00:00Z"}, {}]
)
def test_drafts_and_scheduled_groups_are_deleted(tenant: Tenant, fields: dict[str, str]) -> None:
    group_id = create_post(tenant, **fields)
    response = tenant.client.delete(f"/delete-post/{group_id}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert tenant.client.get(f"/get-post/{group_id}").status_code == 404
    assert tenant.client.delete(f"/delete-post/{group_id}").status_code == 404


def test_failed_groups_are_deleted(server: LiveServer, tenant: Tenant) -> None:
    group_id = create_post(tenant)
    force_target_states(server, group_id, ["outcome_unknown"], sent=True)
    assert tenant.client.delete(f"/delete-post/{group_id}").json() == {"success": True}


@pytest.mark.parametrize(
    ("states", "sent", "shown"),
    [
        (["published"], True, "published"),
        (["published", "failed"], True, "partially_published"),
        (["publishing", "publishing"], False, "pending"),
        (["in_doubt", "published"], True, "processing"),
        (["in_doubt", "scheduled"], True, "processing"),
        (["published", "scheduled"], True, "published"),
    ],
)
def test_groups_being_sent_or_published_are_kept(
    server: LiveServer, tenant: Tenant, states: list[str], sent: bool, shown: str
) -> None:
    second = add_sandbox_connection(server, tenant.account_id)
    group_id = create_post(tenant, platforms=[tenant.platform_id, second][: len(states)])
    force_target_states(server, group_id, states, sent=sent)
    response = tenant.client.delete(f"/delete-post/{group_id}")
    assert response.status_code == 400
    assert response.json() == error_body(
        f"Cannot delete post: post is currently in {shown} status", "POST_NOT_DELETABLE"
    )
    assert tenant.client.get(f"/get-post/{group_id}").status_code == 200


def test_a_claim_not_yet_sent_does_not_block_deletion(server: LiveServer, tenant: Tenant) -> None:
    """Before the send gate an edit or delete wins over the engine (DESIGN §4)."""
    second = add_sandbox_connection(server, tenant.account_id)
    group_id = create_post(tenant, platforms=[tenant.platform_id, second])
    force_target_states(server, group_id, ["publishing", "scheduled"], sent=False)
    assert tenant.client.delete(f"/delete-post/{group_id}").json() == {"success": True}


def test_foreign_groups_are_not_found(tenant: Tenant, new_tenant: Callable[..., Tenant]) -> None:
    other = new_tenant("Other")
    group_id = create_post(other)
    response = tenant.client.delete(f"/delete-post/{group_id}")
    assert response.status_code == 404
    assert response.json()["error"] == "Post group not found"
    assert other.client.get(f"/get-post/{group_id}").status_code == 200


def test_delete_tolerates_a_json_content_type_without_body(tenant: Tenant) -> None:
    group_id = create_post(tenant)
    response = tenant.client.delete(
        f"/delete-post/{group_id}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
