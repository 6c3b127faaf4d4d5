"""The documented upload flow with the S3 backend: a pre-signed PUT straight to the bucket (a
moto server on loopback), then the engine finds the file and publishes it."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from herald.app import SANDBOX_PATH
from herald.config import Settings
from herald.db.migrate import migrate
from herald.domain.timestamps import utc_now
from herald.engine.dispatcher import Engine
from herald.engine.media_prep import MediaPreparer
from herald.models import Media
from media_support import ACCESS_KEY, REGION, SECRET_KEY, moto_server, s3_backend
from support import (
    TEST_SETTINGS,
    LiveServer,
    iso_in,
    make_tenant,
    post_when,
    run_live_server,
    running_engine,
)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import asyncio

    root = tmp_path_factory.mktemp("s3-herald")
    with moto_server(root / "moto.log") as endpoint, s3_backend(endpoint) as backend:
        settings = Settings(
            data_dir=root,
            media_backend="s3",
            s3_bucket=backend.store.bucket,
            s3_endpoint_url=endpoint,
            s3_region=REGION,
            s3_access_key_id=ACCESS_KEY,
            s3_secret_access_key=SECRET_KEY,
            **TEST_SETTINGS,
        )
        asyncio.run(migrate(settings.resolved_database_url))
        with run_live_server(settings) as server:
            yield server


@pytest.fixture
def s3_engine(s3_server: LiveServer) -> Iterator[Engine]:
    settings = s3_server.settings.model_copy(
        update={"sandbox_url": s3_server.base_url + SANDBOX_PATH, "media_wait_seconds": 5.0}
    )

    with running_engine(s3_server, settings) as engine:
        yield engine


CAP = 1024 * 1024


@pytest.fixture
def capped_engine(s3_server: LiveServer) -> Iterator[Engine]:
    """An engine whose upload cap is 1 MB: S3 takes whatever the client PUTs, so Herald checks
    each object's size itself before it counts as uploaded."""
    settings = s3_server.settings.model_copy(
        update={
            "sandbox_url": s3_server.base_url + SANDBOX_PATH,
            "media_wait_seconds": 5.0,
            "media_max_upload_bytes": CAP,
        }
    )
    with running_engine(s3_server, settings) as engine:
        yield engine


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 200, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def test_upload_to_s3_then_publish(
    s3_server: LiveServer, s3_engine: Engine, tmp_path: Path
) -> None:
    tenant = make_tenant(s3_server)
    try:
        group_id = tenant.client.post(
            "/create-post",
            json={"content": "From S3", "platforms": [tenant.platform_id], "status": "draft"},
        ).json()["postGroupId"]
        issued: dict[str, Any] = tenant.client.post(
            "/get-upload-url",
            json={"postGroupId": group_id, "fileName": "g.png", "contentType": "image/png"},
        ).json()
        # The key, and so the public URL, carries 128 random bits (tests/api/test_media.py).
        assert re.search(r"/[0-9a-f]{24}/[0-9a-f]{24}/[0-9a-f]{32}/g\.png$", issued["fileUrl"])
        signed = parse_qs(urlsplit(issued["uploadUrl"]).query)["X-Amz-SignedHeaders"][0]
        assert "content-type" in signed.split(";")
        data = png()
        uploaded = httpx.put(
            issued["uploadUrl"], content=data, headers={"Content-Type": "image/png"}
        )
        assert uploaded.status_code == 200
        assert httpx.get(issued["fileUrl"]).content == data
        scheduled = tenant.client.put(
            f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1.5)}
        )
        assert scheduled.status_code == 200
        body = post_when(tenant, group_id, "published")
        assert body["mediaUrls"] == [issued["fileUrl"]]
        with httpx.Client(base_url=s3_server.base_url + SANDBOX_PATH) as sandbox:
            posts = sandbox.get("/_sim/posts").json()["posts"]
        assert [m["url"] for m in posts[-1]["media"]] == [issued["fileUrl"]]
        deleted = tenant.client.delete(f"/delete-post/{group_id}")
        assert deleted.status_code == 409  # published posts stay (POST_IS_PUBLISHED)
    finally:
        tenant.client.close()


def test_delete_removes_the_object(s3_server: LiveServer) -> None:
    tenant = make_tenant(s3_server)
    try:
        group_id = tenant.client.post(
            "/create-post",
            json={"content": "Gone", "platforms": [tenant.platform_id], "status": "draft"},
        ).json()["postGroupId"]
        issued = tenant.client.post(
            "/get-upload-url",
            json={"postGroupId": group_id, "fileName": "g.png", "contentType": "image/png"},
        ).json()
        httpx.put(issued["uploadUrl"], content=png(), headers={"Content-Type": "image/png"})
        assert httpx.get(issued["fileUrl"]).status_code == 200
        assert tenant.client.delete(f"/delete-post/{group_id}").json() == {"success": True}
        assert httpx.get(issued["fileUrl"]).status_code == 404
    finally:
        tenant.client.close()


def test_an_object_over_the_cap_is_deleted_and_never_published(
    s3_server: LiveServer, capped_engine: Engine
) -> None:
    tenant = make_tenant(s3_server)
    try:
        group_id = tenant.client.post(
            "/create-post",
            json={"content": "Too big", "platforms": [tenant.platform_id], "status": "draft"},
        ).json()["postGroupId"]
        issued = tenant.client.post(
            "/get-upload-url",
            json={"postGroupId": group_id, "fileName": "big.png", "contentType": "image/png"},
        ).json()
        data = png() + bytes(3 * CAP)
        uploaded = httpx.put(
            issued["uploadUrl"], content=data, headers={"Content-Type": "image/png"}
        )
        assert uploaded.status_code == 200  # the bucket itself enforces nothing
        scheduled = tenant.client.put(
            f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
        )
        assert scheduled.status_code == 200
        post = post_when(tenant, group_id, "failed")["posts"][0]
        assert post["errorCode"] == "MEDIA_TOO_LARGE"
        assert post["errorMessage"] == (
            "big.png is larger than the 1 MB upload limit; it was deleted and the post was "
            "not published"
        )
        assert httpx.get(issued["fileUrl"]).status_code == 404
    finally:
        tenant.client.close()


def test_an_object_replaced_after_it_was_ready_is_checked_when_its_url_dies(
    s3_server: LiveServer, capped_engine: Engine
) -> None:
    """A pre-signed PUT works until it expires, so a small file seen at publishing time can
    still be swapped for a big one; the sweep looks once more when the URL has died."""
    tenant = make_tenant(s3_server)
    try:
        group_id = tenant.client.post(
            "/create-post",
            json={"content": "Swapped", "platforms": [tenant.platform_id], "status": "draft"},
        ).json()["postGroupId"]
        tickets = [
            tenant.client.post(
                "/get-upload-url",
                json={"postGroupId": group_id, "fileName": name, "contentType": "image/png"},
            ).json()
            for name in ("big.png", "small.png")
        ]
        for issued, size in zip(tickets, (3 * CAP, 0), strict=True):
            for data in (png(), png() + bytes(size)):  # the second PUT replaces the first
                put = httpx.put(
                    issued["uploadUrl"], content=data, headers={"Content-Type": "image/png"}
                )
                assert put.status_code == 200
        sweeper = MediaPreparer(s3_server.context.media_store, None, timedelta(0), CAP)  # type: ignore[arg-type]
        later = utc_now() + timedelta(hours=2)  # both upload URLs have died by then
        s3_server.run(sweeper.sweep(s3_server.context.sessions, later))

        async def rows(session: Any) -> list[tuple[str, str, bool]]:
            found = await session.scalars(select(Media).where(Media.post_group_id == group_id))
            return sorted((m.file_name, m.status, m.upload_expires_at is None) for m in found)

        assert s3_server.transaction(rows) == [
            ("big.png", "too_large", True),
            ("small.png", "ready", True),
        ]
        assert httpx.get(tickets[0]["fileUrl"]).status_code == 404
        assert httpx.get(tickets[1]["fileUrl"]).status_code == 200
        scheduled = tenant.client.put(
            f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
        )
        assert scheduled.status_code == 200
        post = post_when(tenant, group_id, "failed")["posts"][0]
        assert post["errorCode"] == "MEDIA_TOO_LARGE"
    finally:
        tenant.client.close()
