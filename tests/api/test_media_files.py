"""complete-media, DELETE /media/:mediaId, upload-youtube-thumbnail and upload-instagram-cover
(publora-latest §2.7–2.9, Publora's upload-media, upload-youtube-thumbnail and
upload-instagram-cover pages), and the `post.demoted` event a media change sends (§3)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from herald.models import WebhookDelivery
from support import (
    LiveServer,
    Tenant,
    create_post,
    error_body,
    force_target_states,
    iso_in,
    target_rows,
)


def image(fmt: str, width: int = 640, height: int = 360, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    colour: Any = (10, 120, 200, 0) if mode == "RGBA" else (10, 120, 200)
    Image.new(mode, (width, height), colour).save(buffer, fmt)
    return buffer.getvalue()


def ticket(tenant: Tenant, group_id: str) -> dict[str, Any]:
    body = {"postGroupId": group_id, "fileName": "photo.png", "contentType": "image/png"}
    response = tenant.client.post("/get-upload-url", json=body)
    assert response.status_code == 200, response.text
    issued: dict[str, Any] = response.json()
    return issued


def put(url: str, data: bytes) -> None:
    response = httpx.put(url, content=data, headers={"Content-Type": "image/png"}, timeout=30)
    assert response.status_code == 200, response.text


# --- complete-media -----------------------------------------------------------------------


def test_complete_media_reports_an_uploaded_file(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id)
    pending = tenant.client.post(f"/complete-media/{issued['mediaId']}")
    assert pending.status_code == 200  # nothing stored yet: still uploading, not a failure
    assert pending.json()["mediaFile"]["status"] == "uploading"
    assert pending.json()["mediaFile"]["url"] is None
    data = image("PNG", 8, 6)
    put(issued["uploadUrl"], data)
    done = tenant.client.post(f"/complete-media/{issued['mediaId']}")
    assert done.status_code == 200
    assert done.json() == {
        "success": True,
        "mediaFile": {
            "_id": issued["mediaId"],
            "type": "image",
            "mimeType": "image/png",
            "fileName": "photo.png",
            "url": issued["fileUrl"],
            "status": "ready",
            "metadata": {"size": len(data)},
        },
    }
    assert tenant.client.post(f"/complete-media/{issued['mediaId']}").json() == done.json()


def test_complete_media_of_another_tenant_or_no_media_is_404(
    tenant: Tenant, new_tenant: Callable[..., Tenant]
) -> None:
    issued = ticket(tenant, create_post(tenant, status="draft"))
    stranger = new_tenant("Other")
    for client, media_id in (
        (stranger.client, issued["mediaId"]),
        (tenant.client, "0" * 24),
        (tenant.client, "nope"),
    ):
        response = client.post(f"/complete-media/{media_id}")
        assert response.status_code == 404
        assert response.json() == error_body("Media file not found", "MEDIA_FILE_NOT_FOUND")


# --- DELETE /media/:mediaId and post.demoted ----------------------------------------------


def _webhook(tenant: Tenant) -> str:
    hook = {"name": "Demotions", "url": "https://example.com/hook", "events": ["post.demoted"]}
    response = tenant.client.post("/webhooks", json=hook)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["webhook"]["_id"])


def _demotions(server: LiveServer) -> list[dict[str, Any]]:
    async def read(session: Any) -> list[dict[str, Any]]:
        rows = await session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event == "post.demoted")
        )
        return [json.loads(row.body) for row in rows]

    return server.transaction(read)


def test_deleting_media_of_a_scheduled_post_demotes_it_and_says_so(
    server: LiveServer, tenant: Tenant
) -> None:
    _webhook(tenant)
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    issued = ticket(tenant, group_id)
    put(issued["uploadUrl"], image("PNG", 8, 6))
    response = tenant.client.delete(f"/media/{issued['mediaId']}")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["postGroupDemoted"] is True
    assert isinstance(body["message"], str)
    post = tenant.client.get(f"/get-post/{group_id}").json()
    assert post["status"] == "draft"
    assert post["mediaUrls"] == []
    assert httpx.get(issued["fileUrl"]).status_code == 404  # the file went with the row
    assert target_rows(server, group_id)[0].due_at is None  # nothing will publish it
    [envelope] = _demotions(server)
    assert envelope["event"] == "post.demoted"
    assert envelope["version"] == "1"
    assert envelope["data"] == {
        "postGroupId": group_id,
        "reason": "media_changed",
        "changeType": "detach",
        "mediaFileId": issued["mediaId"],
    }


def test_deleting_media_of_a_draft_keeps_it_a_draft(server: LiveServer, tenant: Tenant) -> None:
    _webhook(tenant)
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id)
    response = tenant.client.delete(f"/media/{issued['mediaId']}")
    assert response.json() == {"success": True}
    assert _demotions(server) == []
    again = tenant.client.delete(f"/media/{issued['mediaId']}")
    assert again.status_code == 404
    assert again.json() == error_body("Media file not found", "MEDIA_FILE_NOT_FOUND")


@pytest.mark.parametrize(
    ("states", "status", "code"),
    [
        (["published"], 400, "POST_NOT_EDITABLE"),
        (["failed"], 400, "POST_NOT_EDITABLE"),
        (["publishing"], 409, "POST_PUBLISH_IN_PROGRESS"),
    ],
)
def test_media_of_a_post_being_sent_or_done_stays(
    server: LiveServer, tenant: Tenant, states: list[str], status: int, code: str
) -> None:
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id)
    force_target_states(server, group_id, states)
    response = tenant.client.delete(f"/media/{issued['mediaId']}")
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_another_tenants_media_cannot_be_deleted(
    tenant: Tenant, new_tenant: Callable[..., Tenant]
) -> None:
    issued = ticket(tenant, create_post(tenant, status="draft"))
    stranger = new_tenant("Other")
    assert stranger.client.delete(f"/media/{issued['mediaId']}").status_code == 404
    assert tenant.client.delete(f"/media/{issued['mediaId']}").status_code == 200


# --- thumbnails and covers ----------------------------------------------------------------


def _upload(tenant: Tenant, path: str, field: str, data: bytes | None, group_id: Any) -> Any:
    fields = {} if group_id is None else {"postGroupId": group_id}
    files = {} if data is None else {field: ("picture", data, "application/octet-stream")}
    return tenant.client.post(path, data=fields, files=files or {"other": ("x", b"x")})


def test_a_youtube_thumbnail_is_stored_and_served(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    data = image("JPEG", 1280, 720)
    response = _upload(tenant, "/upload-youtube-thumbnail", "thumbnail", data, group_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"success", "thumbnail"}
    assert set(body["thumbnail"]) == {"mediaId", "url"}
    served = httpx.get(body["thumbnail"]["url"])
    assert (served.status_code, served.content) == (200, data)
    assert served.headers["content-type"] == "image/jpeg"
    # Not one of the post's media: nothing would publish it as an attachment.
    assert tenant.client.get(f"/get-post/{group_id}").json()["mediaUrls"] == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (image("PNG", 639, 360), "YouTube thumbnails must be at least 640x360 pixels"),
        (image("WEBP"), "YouTube thumbnails must be JPEG or PNG images"),
        (b"not an image at all", "YouTube thumbnails must be JPEG or PNG images"),
        (b"\xff\xd8" + b"0" * (2 * 1024 * 1024), "YouTube thumbnails must be 2 MB or smaller"),
        (None, "thumbnail file is required"),
    ],
)
def test_youtube_thumbnail_refusals(tenant: Tenant, data: bytes | None, message: str) -> None:
    group_id = create_post(tenant, status="draft")
    response = _upload(tenant, "/upload-youtube-thumbnail", "thumbnail", data, group_id)
    assert response.status_code == 400
    assert response.json()["error"] == message


def test_the_post_group_is_checked_first(
    server: LiveServer, tenant: Tenant, new_tenant: Callable[..., Tenant]
) -> None:
    data = image("PNG")
    path = "/upload-youtube-thumbnail"
    missing = _upload(tenant, path, "thumbnail", data, None)
    assert (missing.status_code, missing.json()["error"]) == (400, "postGroupId is required")
    bad = _upload(tenant, path, "thumbnail", data, "abc")
    assert (bad.status_code, bad.json()["error"]) == (400, "Invalid postGroupId")
    group_id = create_post(tenant, status="draft")
    foreign = _upload(new_tenant("Other"), path, "thumbnail", data, group_id)
    assert (foreign.status_code, foreign.json()["error"]) == (404, "Post group not found")
    force_target_states(server, group_id, ["publishing"])
    busy = _upload(tenant, path, "thumbnail", data, group_id)
    assert busy.status_code == 409
    assert busy.json()["error"] == (
        "Post group is currently being published; cannot upload YouTube thumbnail. "
        "Retry once publishing completes."
    )
    force_target_states(server, group_id, ["published"])
    done = _upload(tenant, path, "thumbnail", data, group_id)
    assert done.status_code == 400
    assert done.json()["error"] == "Cannot upload YouTube thumbnail for a non-editable post"


def test_an_instagram_cover_is_always_a_jpeg(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    data = image("PNG", 300, 200, mode="RGBA")  # transparent: flattened onto white
    response = _upload(tenant, "/upload-instagram-cover", "cover", data, group_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == (
        "Set platformSettings.instagram.coverUrl to cover.url via /update-post to use this image "
        "as the Reels cover."
    )
    served = httpx.get(body["cover"]["url"])
    assert served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as picture:
        assert picture.format == "JPEG"
        assert picture.getpixel((0, 0)) == (255, 255, 255)
    refused = _upload(tenant, "/upload-instagram-cover", "cover", image("GIF"), group_id)
    assert refused.json()["error"] == "Instagram covers must be JPEG, PNG, or WebP images"


def test_deleting_a_thumbnail_clears_the_setting_naming_it(
    server: LiveServer, tenant: Tenant
) -> None:
    from herald.store.post import PostStore

    group_id = create_post(tenant, status="draft")
    response = _upload(tenant, "/upload-youtube-thumbnail", "thumbnail", image("PNG"), group_id)
    thumbnail = response.json()["thumbnail"]

    async def point_at_it(session: Any) -> None:
        group = await PostStore(session).get_by_id(group_id)
        group.platform_settings = {"youtube": {"thumbnail": thumbnail, "privacy": "public"}}

    server.transaction(point_at_it)
    deleted = tenant.client.delete(f"/media/{thumbnail['mediaId']}")
    assert deleted.json() == {"success": True, "thumbnailCleared": True}
    assert httpx.get(thumbnail["url"]).status_code == 404

    async def settings(session: Any) -> Any:
        return (await PostStore(session).get_by_id(group_id)).platform_settings

    assert server.transaction(settings) == {"youtube": {"privacy": "public"}}


def test_deleting_the_post_deletes_its_artwork(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    response = _upload(tenant, "/upload-instagram-cover", "cover", image("JPEG"), group_id)
    url = response.json()["cover"]["url"]
    assert httpx.get(url).status_code == 200
    assert tenant.client.delete(f"/delete-post/{group_id}").status_code == 200
    assert httpx.get(url).status_code == 404
