"""update-post edits (publora-latest §2.15): content, platforms, platformSettings, firstComment,
checked as create-post checks them; the seed's refusals once the post is past the send gate."""

from __future__ import annotations

from typing import Any

import pytest

from herald.domain.platform import Platform
from herald.domain.text import plan_parts
from support import (
    LiveServer,
    Tenant,
    add_raw_connection,
    add_sandbox_connection,
    create_post,
    error_body,
    force_target_states,
    iso_in,
)


def _put(tenant: Tenant, group_id: str, body: object, **headers: str) -> dict[str, object]:
    response = tenant.client.put(f"/update-post/{group_id}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_content_edit_rewrites_every_target(server: LiveServer, tenant: Tenant) -> None:
    second = add_sandbox_connection(server, tenant.account_id)
    when = iso_in(days=1)
    group_id = create_post(tenant, scheduledTime=when, platforms=[tenant.platform_id, second])
    answer = _put(tenant, group_id, {"content": "Edited text"})
    # The seed's answer, byte for byte: nothing new unless something applies.
    assert answer == {
        "success": True,
        "message": "Post updated successfully",
        "postGroup": {"_id": group_id, "status": "scheduled", "scheduledTime": when},
    }
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["content"] == "Edited text"
    assert [p["threadParts"][0]["content"] for p in got["posts"]] == ["Edited text"] * 2


def test_long_content_is_planned_again_as_a_thread(tenant: Tenant) -> None:
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    long_text = " ".join(["word"] * 200)  # over the sandbox's 500
    _put(tenant, group_id, {"content": long_text})
    post = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
    assert post["isThread"] is True
    planned = plan_parts(Platform.SANDBOX, long_text)
    assert len(planned) > 1
    assert [p["content"] for p in post["threadParts"]] == planned


def test_platforms_replace_the_targets_in_order(server: LiveServer, tenant: Tenant) -> None:
    second = add_sandbox_connection(server, tenant.account_id)
    third = add_sandbox_connection(server, tenant.account_id)
    group_id = create_post(
        tenant, scheduledTime=iso_in(days=1), platforms=[tenant.platform_id, second]
    )
    before = {
        p["platformConnectionId"]: p["_id"]
        for p in tenant.client.get(f"/get-post/{group_id}").json()["posts"]
    }
    _put(tenant, group_id, {"platforms": [third, second]})
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["platforms"] == [third, second]
    assert [p["status"] for p in got["posts"]] == ["scheduled", "scheduled"]
    # The kept target is the same one; the removed one is gone.
    assert got["posts"][1]["_id"] == before[second]
    assert before[tenant.platform_id] not in [p["_id"] for p in got["posts"]]


def test_the_platform_filter_follows_edited_platforms(server: LiveServer, tenant: Tenant) -> None:
    # list-posts' platform filter reads the group's stored platform set, which an edit of
    # `platforms` must keep true in both directions.
    mastodon = add_raw_connection(server, tenant.account_id, "mastodon", "m-edit-1")
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))

    def listed(platform: str) -> list[str]:
        answer = tenant.client.get("/list-posts", params={"platform": platform}).json()
        return [g["postGroupId"] for g in answer["posts"]]

    assert group_id not in listed("mastodon")
    _put(tenant, group_id, {"platforms": [mastodon]})
    assert group_id in listed("mastodon")
    assert group_id not in listed("sandbox")


def test_edits_of_a_draft_stay_a_draft(server: LiveServer, tenant: Tenant) -> None:
    second = add_sandbox_connection(server, tenant.account_id)
    group_id = create_post(tenant, status="draft")
    answer = _put(tenant, group_id, {"platforms": [second], "content": "Draft text"})
    assert answer["postGroup"] == {"_id": group_id, "status": "draft"}
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert (got["status"], got["platforms"], got["content"]) == ("draft", [second], "Draft text")


@pytest.mark.parametrize(
    ("body", "status", "error", "code"),
    [
        ({"platforms": ["sandbox-nope"]}, 400, "Invalid platform ID", "INVALID_PLATFORM_ID"),
        ({"platforms": []}, 400, "Platforms are required", "PLATFORMS_REQUIRED"),
        ({"platforms": "sandbox-x"}, 400, "Platforms are required", "PLATFORMS_REQUIRED"),
        ({"content": 5}, 400, "Content must be a string", "INVALID_CONTENT"),
        ({"content": "x" * 100_001}, 400, None, "CONTENT_TOO_LONG"),
    ],
)
def test_edits_are_checked_like_create_post_and_change_nothing(
    tenant: Tenant, body: dict[str, object], status: int, error: str | None, code: str
) -> None:
    when = iso_in(days=1)
    group_id = create_post(tenant, scheduledTime=when)
    response = tenant.client.put(
        f"/update-post/{group_id}", json={**body, "scheduledTime": iso_in(days=3)}
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    if error is not None:
        assert response.json()["error"] == error
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert (got["content"], got["platforms"], got["scheduledTime"]) == (
        "Hello from Herald",
        [tenant.platform_id],
        when,
    )


def test_text_over_a_platforms_limit_is_refused(server: LiveServer, tenant: Tenant) -> None:
    linkedin = add_raw_connection(server, tenant.account_id, "linkedin", "li-1")
    group_id = create_post(tenant, status="draft", platforms=[linkedin])
    response = tenant.client.put(f"/update-post/{group_id}", json={"content": "x" * 3001})
    assert response.status_code == 400
    assert response.json()["code"] == "CONTENT_TOO_LONG"
    assert response.json()["platform"] == "linkedin"


def test_adding_a_platform_that_needs_media_meets_the_scheduling_gate(
    server: LiveServer, tenant: Tenant
) -> None:
    instagram = add_raw_connection(server, tenant.account_id, "instagram", "ig-1")
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    response = tenant.client.put(
        f"/update-post/{group_id}", json={"platforms": [tenant.platform_id, instagram]}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation failed"
    assert body["validation"]["errors"][0]["code"] == "MEDIA_REQUIRED"
    assert tenant.client.get(f"/get-post/{group_id}").json()["platforms"] == [tenant.platform_id]
    # As a draft the same edit is fine: drafts skip the gate.
    _put(tenant, group_id, {"status": "draft", "platforms": [tenant.platform_id, instagram]})


@pytest.mark.parametrize("state", ["published", "failed"])
def test_edits_after_the_gate_get_the_seeds_400(
    server: LiveServer, tenant: Tenant, state: str
) -> None:
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    force_target_states(server, group_id, [state], sent=True)
    for body in ({"content": "late"}, {"platforms": [tenant.platform_id]}, {"firstComment": None}):
        response = tenant.client.put(f"/update-post/{group_id}", json=body)
        assert response.status_code == 400
        assert response.json() == error_body(
            "Cannot update published or failed posts", "POST_NOT_EDITABLE"
        )
    assert tenant.client.get(f"/get-post/{group_id}").json()["content"] == "Hello from Herald"


def test_an_edit_moves_the_targets_publish_key(server: LiveServer, tenant: Tenant) -> None:
    """A worker that claimed the old version is fenced: the edit wins before the gate."""
    from support import target_rows

    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    (before,) = target_rows(server, group_id)
    _put(tenant, group_id, {"content": "Edited"})
    (after,) = target_rows(server, group_id)
    assert after.version == before.version + 1
    assert after.claim_token == before.claim_token + 1
    assert after.idempotency_key != before.idempotency_key
    assert after.thread_parts == ["Edited"]


def test_an_edit_replays_under_its_idempotency_key(tenant: Tenant) -> None:
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    first = tenant.client.put(
        f"/update-post/{group_id}", json={"content": "Once"}, headers={"Idempotency-Key": "e-1"}
    )
    _put(tenant, group_id, {"content": "Twice"})
    replay = tenant.client.put(
        f"/update-post/{group_id}", json={"content": "Once"}, headers={"Idempotency-Key": "e-1"}
    )
    assert (replay.status_code, replay.content) == (200, first.content)
    assert tenant.client.get(f"/get-post/{group_id}").json()["content"] == "Twice"


# --- firstComment (publora-latest §5.5) -------------------------------------------------------


def test_first_comment_is_stored_shown_replaced_and_removed(tenant: Tenant) -> None:
    group_id = create_post(
        tenant, scheduledTime=iso_in(days=1), firstComment={"text": "More in the thread"}
    )
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["firstComment"] == {"text": "More in the thread"}
    assert got["posts"][0]["firstCommentResult"] is None  # not published yet
    _put(tenant, group_id, {"firstComment": {"text": "Link: x", "platforms": ["sandbox"]}})
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["firstComment"] == {"text": "Link: x", "platforms": ["sandbox"]}
    _put(tenant, group_id, {"firstComment": None})
    assert tenant.client.get(f"/get-post/{group_id}").json()["firstComment"] is None


def test_first_comment_warnings(server: LiveServer, tenant: Tenant) -> None:
    telegram = add_raw_connection(server, tenant.account_id, "telegram", "-1001")
    response = tenant.client.post(
        "/create-post",
        json={
            "content": "Hi",
            "platforms": [tenant.platform_id, telegram],
            "status": "draft",
            "firstComment": {"text": "c", "platforms": ["telegram", "bluesky"]},
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == [
        {
            "code": "FIRST_COMMENT_PLATFORM_NOT_TARGETED",
            "message": "The first comment names platforms this post does not target: bluesky",
            "platforms": ["bluesky"],
        },
        {
            "code": "FIRST_COMMENT_UNSUPPORTED_PLATFORMS",
            "message": "First comments are not posted on: telegram",
            "platforms": ["telegram"],
        },
    ]


@pytest.mark.parametrize(
    ("comment", "code", "field"),
    [
        ("text", "FIRST_COMMENT_INVALID", "firstComment"),
        ({"text": 1}, "FIRST_COMMENT_INVALID", "firstComment.text"),
        ({"text": "a", "extra": 1}, "FIRST_COMMENT_INVALID", "firstComment"),
        (
            {"text": "a", "platforms": ["sandbox-123"]},
            "FIRST_COMMENT_PLATFORM_UNKNOWN",
            "firstComment.platforms",
        ),
        ({"text": "x" * 25_001}, "FIRST_COMMENT_TOO_LONG", "firstComment.text"),
        ({"text": "x" * 501}, "FIRST_COMMENT_TOO_LONG", "firstComment.text"),
    ],
)
def test_bad_first_comments_change_nothing(
    tenant: Tenant, comment: object, code: str, field: str
) -> None:
    group_id = create_post(tenant, status="draft")
    response = tenant.client.put(f"/update-post/{group_id}", json={"firstComment": comment})
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert tenant.client.get(f"/get-post/{group_id}").json()["firstComment"] is None


def test_unknown_platform_type_names_the_allowed_ones(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/create-post",
        json={
            "content": "Hi",
            "platforms": [tenant.platform_id],
            "firstComment": {"text": "c", "platforms": ["myspace"]},
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == (
        'Unknown first comment platform "myspace": use platform types such as linkedin or '
        "twitter, not connection keys"
    )
    assert "mastodon" in body["allowed"]


def test_a_comment_too_long_for_bluesky_is_named(server: LiveServer, tenant: Tenant) -> None:
    bluesky = add_raw_connection(server, tenant.account_id, "bluesky", "did:plc:abc")
    response = tenant.client.post(
        "/create-post",
        json={
            "content": "Hi",
            "platforms": [bluesky],
            "status": "draft",
            "firstComment": {"text": "y" * 301},
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "First comment is too long for bluesky: 301 characters, limit 300"
    assert (body["platform"], body["limit"], body["count"]) == ("bluesky", 300, 301)


def test_an_edit_planned_before_another_write_changes_nothing(
    server: LiveServer, tenant: Tenant
) -> None:
    """The targets are planned outside the write transaction; if the post changed meanwhile,
    the edit is Publora's 409 POST_GROUP_VERSION_CONFLICT and writes nothing."""
    from herald.domain.timestamps import utc_now
    from herald.errors import ConflictError
    from herald.services.post_update import (
        PostChange,
        plan_retarget,
        read_retarget,
        update_post,
    )

    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    change = PostChange(status=None, scheduled_at=None, content="Planned first")

    async def plan(session: Any) -> Any:
        return await read_retarget(session, tenant.account_id, group_id, change)

    retarget = plan_retarget(server.transaction(plan))
    _put(tenant, group_id, {"content": "Written meanwhile"})

    async def write(session: Any) -> None:
        await update_post(
            session,
            tenant.account_id,
            group_id,
            change,
            utc_now(),
            retarget=retarget,
        )

    with pytest.raises(ConflictError) as raised:
        server.transaction(write)
    assert raised.value.code == "POST_GROUP_VERSION_CONFLICT"
    assert raised.value.message == "Post group state changed concurrently; please retry."
    assert tenant.client.get(f"/get-post/{group_id}").json()["content"] == "Written meanwhile"
