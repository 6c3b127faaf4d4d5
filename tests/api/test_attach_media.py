"""attach-media (EP/attach-media, publora-latest §2.6 and §4): one file by URL, the post left in
draft, Idempotency-Key exactly as on create-post and update-post."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from herald.models import WebhookDelivery
from media_url_support import FileServer, file_server
from support import LiveServer, Tenant, create_post, error_body, force_target_states, iso_in


@pytest.fixture
def files() -> Iterator[FileServer]:
    with file_server() as served:
        yield served


def _attach(
    tenant: Tenant, group_id: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return tenant.client.post(f"/attach-media/{group_id}", json=body, headers=headers)


def _file(url: str, file_id: str = "file-1", **more: str) -> dict[str, Any]:
    return {"file": {"download_url": url, "file_id": file_id, **more}}


def test_attach_media_leaves_a_scheduled_post_in_draft_with_its_time(
    tenant: Tenant, files: FileServer
) -> None:
    when = iso_in(days=2)
    group_id = create_post(tenant, scheduledTime=when)
    response = _attach(
        tenant, group_id, {**_file(files.url("/red.png")), "fileName": "My photo (1).png"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True,
        "message": "Post updated successfully",
        "scheduledTime": when,
        "postGroup": {
            "_id": group_id,
            "status": "draft",
            "content": "Hello from Herald",
            "platforms": [tenant.platform_id],
            "scheduledTime": when,
        },
    }
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["status"] == "draft"
    assert [(m["sourceFileName"], m["status"]) for m in got["media"]] == [
        ("My_photo_1.png", "ready")
    ]


def _demotions(server: LiveServer) -> list[dict[str, Any]]:
    async def read(session: Any) -> list[dict[str, Any]]:
        query = select(WebhookDelivery).where(WebhookDelivery.event == "post.demoted")
        return [json.loads(row.body)["data"] for row in await session.scalars(query)]

    return server.transaction(read)


def test_attaching_to_a_scheduled_post_sends_post_demoted_and_to_a_draft_does_not(
    server: LiveServer, tenant: Tenant, files: FileServer
) -> None:
    """OAS webhooks: post.demoted fires when a scheduled group returns to draft, reason
    media_changed with changeType attach; attach-media always leaves the post a draft."""
    hook = {"name": "Demotions", "url": "https://example.com/hook", "events": ["post.demoted"]}
    assert tenant.client.post("/webhooks", json=hook).status_code in (200, 201)
    scheduled = create_post(tenant, scheduledTime=iso_in(days=2))
    draft = create_post(tenant, status="draft")
    for group_id in (scheduled, draft):
        response = _attach(tenant, group_id, _file(files.url("/red.png")))
        assert response.status_code == 200, response.text
    [media] = tenant.client.get(f"/get-post/{scheduled}").json()["media"]
    assert _demotions(server) == [
        {
            "postGroupId": scheduled,
            "reason": "media_changed",
            "changeType": "attach",
            "mediaFileId": media["mediaId"],
        }
    ]


def test_file_name_falls_back_to_the_files_then_publoras_default(
    tenant: Tenant, files: FileServer
) -> None:
    group_id = create_post(tenant, status="draft")
    _attach(tenant, group_id, _file(files.url("/red.png"), "a", file_name="dir/x y.png"))
    _attach(tenant, group_id, _file(files.url("/blue.png"), "b"))
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert [m["sourceFileName"] for m in got["media"]] == ["x_y.png", "chatgpt-media"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"file": {"download_url": "https://x/a.png", "file_id": "1"}, "status": "scheduled"},
            "Only file and fileName are accepted; attaching media leaves the post in draft",
        ),
        (
            {"file": "C:\\photos\\a.png"},
            "file must be a file object with download_url and file_id, not a local path or "
            "base64 string",
        ),
        (
            {"file": {"download_url": "", "file_id": "1"}},
            "file.download_url must be a non-empty string",
        ),
        (
            {"file": {"download_url": "https://x/a.png", "file_id": "1", "size": 3}},
            "file only accepts download_url, file_id, mime_type and file_name",
        ),
        (
            {"file": {"download_url": "https://x/a.png", "file_id": "1"}, "fileName": ""},
            "fileName must be a non-empty string of at most 255 characters",
        ),
        (
            {"file": {"download_url": "https://x/a.png", "file_id": "1"}, "fileName": "(..)"},
            "fileName must contain a valid file name",
        ),
        (
            {"file": {"download_url": "ftp://files.example.com/a.png", "file_id": "1"}},
            "Only https:// and http:// media URLs are allowed (got ftp://)",
        ),
        (
            {"file": {"download_url": "https://u:p@files.example.com/a.png", "file_id": "1"}},
            "Media URLs must not contain credentials",
        ),
    ],
)
def test_bad_bodies(tenant: Tenant, body: dict[str, Any], message: str) -> None:
    group_id = create_post(tenant, status="draft")
    response = _attach(tenant, group_id, body)
    assert response.status_code == 400
    assert response.json() == error_body(message, "INVALID_MEDIA_FILE")


def test_refusals_before_any_download(
    server: LiveServer, tenant: Tenant, files: FileServer
) -> None:
    published = create_post(tenant, scheduledTime=iso_in(days=1))
    force_target_states(server, published, ["published"], sent=True)
    response = _attach(tenant, published, _file(files.url("/red.png")))
    assert response.status_code == 400
    assert response.json() == error_body(
        "Cannot update post: post is currently in published status", "POST_NOT_EDITABLE"
    )
    sending = create_post(tenant, scheduledTime=iso_in(days=1))
    force_target_states(server, sending, ["in_doubt"], sent=True)
    response = _attach(tenant, sending, _file(files.url("/red.png")))
    assert response.status_code == 409
    assert response.json()["code"] == "POST_PUBLISH_IN_PROGRESS"
    missing = _attach(tenant, "507f1f77bcf86cd799439011", _file(files.url("/red.png")))
    assert missing.status_code == 404
    assert files.requests == []


def test_a_failed_download_attaches_nothing_and_frees_the_key(
    tenant: Tenant, files: FileServer
) -> None:
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    failed = _attach(tenant, group_id, _file(files.url("/missing.png")), key="k-1")
    assert failed.status_code == 400
    assert failed.json()["mediaResults"] == [
        {
            "url": files.url("/missing.png"),
            "ok": False,
            "code": "MEDIA_URL_HTTP_ERROR",
            "error": f"Fetching {files.url('/missing.png')} returned HTTP 404",
        }
    ]
    assert tenant.client.get(f"/get-post/{group_id}").json()["status"] == "scheduled"
    # The same key again is a new request (Publora §4: "key is freed").
    files.files["/missing.png"] = files.files["/red.png"]
    again = _attach(tenant, group_id, _file(files.url("/missing.png")), key="k-1")
    assert again.status_code == 200, again.text


def test_idempotency_key_replays_without_fetching_again(tenant: Tenant, files: FileServer) -> None:
    group_id = create_post(tenant, status="draft")
    first = _attach(tenant, group_id, _file(files.url("/red.png"), "f-9"), key="attach-1")
    assert first.status_code == 200, first.text
    # A refreshed download URL with the same file id and name replays (Publora §4).
    replay = _attach(tenant, group_id, _file(files.url("/red.png?v=2"), "f-9"), key="attach-1")
    assert (replay.status_code, replay.content) == (200, first.content)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert files.requests == ["/red.png"]
    assert len(tenant.client.get(f"/get-post/{group_id}").json()["media"]) == 1
    other = _attach(tenant, group_id, _file(files.url("/red.png"), "f-10"), key="attach-1")
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_CONFLICT"
    elsewhere = create_post(tenant, status="draft")
    moved = _attach(tenant, elsewhere, _file(files.url("/red.png"), "f-9"), key="attach-1")
    assert moved.status_code == 422


def test_attach_media_counts_against_the_hourly_allowance(
    tenant: Tenant, files: FileServer
) -> None:
    group_id = create_post(tenant, status="draft")
    for _ in range(15):
        body = {
            "content": "x",
            "platforms": [tenant.platform_id],
            "status": "draft",
            "mediaUrls": [files.url("/red.png")] * 4,
        }
        assert tenant.client.post("/create-post", json=body).status_code == 200
    response = _attach(tenant, group_id, _file(files.url("/red.png")))
    assert response.status_code == 429
    assert response.json()["code"] == "MEDIA_URL_RATE_LIMITED"
