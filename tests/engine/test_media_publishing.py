"""Posts with media: files reach the platform on the first part, with their alt texts; a post
whose upload never finishes fails visibly instead of going out without it."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from herald.engine.dispatcher import Engine
from support import LiveServer, Tenant, attach_file, iso_in, post_when, target_rows


def image(fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), (10, 120, 200)).save(buffer, fmt)
    return buffer.getvalue()


def test_the_documented_flow_create_then_upload_then_schedule(
    engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    """create-post without a time makes a draft (publora-latest §2.14), so the file uploaded
    afterwards (get-upload-url, PUT) goes out with the post once it is scheduled."""
    created = tenant.client.post(
        "/create-post", json={"content": "With a picture", "platforms": [tenant.platform_id]}
    ).json()
    group_id = created["postGroupId"]
    attached = attach_file(tenant, group_id, "photo.png", image(), "image/png")
    assert tenant.client.get(f"/get-post/{group_id}").json()["status"] == "draft"
    scheduled = tenant.client.put(f"/update-post/{group_id}", json={"status": "scheduled"})
    assert scheduled.status_code == 200, scheduled.text
    post_when(tenant, group_id, "published")
    (posted,) = sandbox.get("/_sim/posts").json()["posts"]
    assert [m["url"] for m in posted["media"]] == [attached["fileUrl"]]


def test_images_are_published_with_alt_texts_on_the_first_part(
    engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    content = "Part one of a thread.\n---\nPart two."
    created = tenant.client.post(
        "/create-post",
        json={
            "content": content,
            "platforms": [tenant.platform_id],
            "status": "draft",
            "altTexts": ["A blue square", "Another one"],
        },
    ).json()
    group_id = created["postGroupId"]
    first = attach_file(tenant, group_id, "a.png", image(), "image/png")
    second = attach_file(tenant, group_id, "b.webp", image("WEBP"), "image/webp")
    scheduled = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=2)}
    )
    assert scheduled.status_code == 200
    body = post_when(tenant, group_id, "published")
    assert body["mediaUrls"] == [first["fileUrl"], second["fileUrl"]]
    posts = sandbox.get("/_sim/posts").json()["posts"]
    assert [p["media"] for p in posts] == [
        [
            {
                "url": first["fileUrl"],
                "kind": "image",
                "contentType": "image/png",
                "alt": "A blue square",
            },
            {
                "url": second["fileUrl"],
                "kind": "image",
                "contentType": "image/webp",
                "alt": "Another one",
            },
        ],
        [],
    ]
    assert httpx.get(first["fileUrl"]).content == image()


def test_an_upload_that_never_finishes_fails_the_post(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    created = tenant.client.post(
        "/create-post",
        json={"content": "Waiting", "platforms": [tenant.platform_id], "status": "draft"},
    ).json()
    group_id = created["postGroupId"]
    tenant.client.post(
        "/get-upload-url",
        json={"postGroupId": group_id, "fileName": "never.png", "contentType": "image/png"},
    )
    scheduled = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
    )
    assert scheduled.status_code == 200
    body = post_when(tenant, group_id, "failed")
    post = body["posts"][0]
    assert post["errorCode"] == "MEDIA_NOT_UPLOADED"
    assert post["errorMessage"] == "1 media upload(s) never finished; the post was not published"
    assert sandbox.get("/_sim/stats").json()["requests"] == 0
    assert target_rows(server, group_id)[0].attempt == 0


def test_an_upload_finishing_late_is_waited_for(
    engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    created = tenant.client.post(
        "/create-post",
        json={"content": "Late file", "platforms": [tenant.platform_id], "status": "draft"},
    ).json()
    group_id = created["postGroupId"]
    issued = tenant.client.post(
        "/get-upload-url",
        json={"postGroupId": group_id, "fileName": "late.png", "contentType": "image/png"},
    ).json()
    scheduled = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
    )
    assert scheduled.status_code == 200
    post_when(tenant, group_id, "scheduled")
    httpx.put(issued["uploadUrl"], content=image(), headers={"Content-Type": "image/png"})
    post_when(tenant, group_id, "published")
    media = sandbox.get("/_sim/posts").json()["posts"][0]["media"]
    assert [m["url"] for m in media] == [issued["fileUrl"]]


def test_uploads_never_finished_are_swept_after_their_url_expires(
    server: LiveServer, engine: Engine, tenant: Tenant
) -> None:
    from datetime import timedelta

    from sqlalchemy import select, update

    from herald.domain.timestamps import utc_now
    from herald.models import Media
    from support import wait_until

    created = tenant.client.post(
        "/create-post",
        json={"content": "Swept", "platforms": [tenant.platform_id], "status": "draft"},
    ).json()
    group_id = created["postGroupId"]
    never = attach_ticket(tenant, group_id, "never.png")
    arrived = attach_ticket(tenant, group_id, "arrived.png")
    # The second file reached the store, but nothing told Herald (as with S3 uploads).
    key = arrived["fileUrl"].split("/media/files/", 1)[1]

    async def store_file() -> None:
        async def body() -> Any:
            yield image()

        await server.context.media_store.receive(key, body())  # type: ignore[attr-defined]

    server.run(store_file())

    async def expire(session: Any) -> None:
        await session.execute(
            update(Media)
            .where(Media.post_group_id == group_id)
            .values(upload_expires_at=utc_now() - timedelta(seconds=1))
        )

    server.transaction(expire)

    async def states(session: Any) -> dict[str, str]:
        rows = await session.execute(
            select(Media.id, Media.status).where(Media.post_group_id == group_id)
        )
        return {row[0]: row[1] for row in rows}

    swept = wait_until(lambda: (found := server.transaction(states)) and len(found) == 1 and found)
    assert swept == {arrived["mediaId"]: "ready"}
    assert never["mediaId"] not in swept
    assert tenant.client.get(f"/get-post/{group_id}").json()["mediaUrls"] == [arrived["fileUrl"]]


def attach_ticket(tenant: Tenant, group_id: str, name: str) -> dict[str, Any]:
    issued: dict[str, Any] = tenant.client.post(
        "/get-upload-url",
        json={"postGroupId": group_id, "fileName": name, "contentType": "image/png"},
    ).json()
    return issued
