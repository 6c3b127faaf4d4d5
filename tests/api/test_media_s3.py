"""The documented upload flow with the S3 backend: a pre-signed PUT straight to the bucket (a
moto server on loopback), then the engine finds the file and publishes it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from herald.app import SANDBOX_PATH
from herald.config import Settings
from herald.db.migrate import migrate
from herald.engine.dispatcher import Engine
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
        assert deleted.status_code == 400  # published posts stay
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
