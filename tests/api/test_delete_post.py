"""delete-post: which groups may go, and that they really go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from support import (
    LiveServer,
    Tenant,
    add_sandbox_connection,
    create_post,
    error_body,
    force_target_states,
    update_target,
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
    force_target_states(server, group_id, ["failed"], sent=True)
    assert tenant.client.delete(f"/delete-post/{group_id}").json() == {"success": True}


PUBLISHED = "Published posts cannot be deleted through this operation."
LIVE = (
    "Posts with published or possibly published content cannot be deleted through this operation."
)


@pytest.mark.parametrize(
    ("states", "sent", "message", "code"),
    [
        (["published"], True, PUBLISHED, "POST_IS_PUBLISHED"),
        (["published", "failed"], True, LIVE, "POST_HAS_LIVE_CONTENT"),
        # Another platform waits for a retry while one has published (§2.18).
        (["published", "scheduled"], True, LIVE, "POST_HAS_LIVE_CONTENT"),
        # The outcome is unknown: the post may be on the platform.
        (["outcome_unknown"], True, LIVE, "POST_HAS_LIVE_CONTENT"),
        (
            ["publishing", "publishing"],
            False,
            "Cannot delete post: post is currently in pending status",
            "POST_IS_PROCESSING",
        ),
        (
            ["in_doubt", "published"],
            True,
            "Cannot delete post: post is currently in processing status",
            "POST_IS_PROCESSING",
        ),
        (
            ["in_doubt", "scheduled"],
            True,
            "Cannot delete post: post is currently in processing status",
            "POST_IS_PROCESSING",
        ),
    ],
)
def test_published_or_possibly_published_groups_are_kept(
    server: LiveServer, tenant: Tenant, states: list[str], sent: bool, message: str, code: str
) -> None:
    """publora-latest §2.18: 409 with a code; the group, its targets and files stay."""
    second = add_sandbox_connection(server, tenant.account_id)
    group_id = create_post(tenant, platforms=[tenant.platform_id, second][: len(states)])
    force_target_states(server, group_id, states, sent=sent)
    response = tenant.client.delete(f"/delete-post/{group_id}")
    assert response.status_code == 409
    assert response.json() == error_body(message, code)
    assert len(tenant.client.get(f"/get-post/{group_id}").json()["posts"]) == len(states)


@pytest.mark.parametrize(
    "evidence",
    [
        {"progress": {"partIds": ["1"]}},  # a thread whose first part went out
        {"external_id": "1"},
        {"published_at": datetime(2030, 1, 1, tzinfo=UTC)},
    ],
)
def test_a_failed_group_with_evidence_of_publication_is_kept(
    server: LiveServer, tenant: Tenant, evidence: dict[str, object]
) -> None:
    group_id = create_post(tenant)
    force_target_states(server, group_id, ["failed"], sent=True)
    update_target(server, group_id, **evidence)
    response = tenant.client.delete(f"/delete-post/{group_id}")
    assert response.status_code == 409
    assert response.json() == error_body(LIVE, "POST_HAS_LIVE_CONTENT")


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
