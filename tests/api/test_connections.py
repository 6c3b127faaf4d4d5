"""POST and DELETE /platform-connections (Herald's extension) over real HTTP; fields per platform.

Connecting real platforms against their simulators is in tests/api/test_connect_platforms.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from support import Tenant, create_post, error_body


def _connect(tenant: Tenant, **body: Any) -> Any:
    return tenant.client.post("/platform-connections", json=body)


def test_connecting_a_sandbox_lists_it_and_deleting_removes_it(tenant: Tenant) -> None:
    response = _connect(tenant, platform="sandbox")  # publishes to Herald's own simulator
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    new_id = body["connection"]["platformId"]
    assert new_id.startswith("sandbox-")
    assert body["connection"]["displayName"] == "Herald Sandbox"
    listed = tenant.client.get("/platform-connections").json()["connections"]
    assert {c["platformId"] for c in listed} == {tenant.platform_id, new_id}

    removed = tenant.client.delete(f"/platform-connections/{new_id}")
    assert removed.status_code == 200
    assert removed.json() == {"success": True, "platformId": new_id}
    listed = tenant.client.get("/platform-connections").json()["connections"]
    assert [c["platformId"] for c in listed] == [tenant.platform_id]
    again = tenant.client.delete(f"/platform-connections/{new_id}")
    assert again.status_code == 404
    assert again.json() == error_body("Platform connection not found", "CONNECTION_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        ({}, "platform is required", "MISSING_FIELD"),
        ({"platform": "myspace"}, "is unknown", "PLATFORM_NOT_SUPPORTED"),
        ({"platform": "tiktok"}, "HERALD_TIKTOK_CLIENT_KEY", "PLATFORM_NOT_CONFIGURED"),
        ({"platform": "bluesky", "handle": "a.bsky.social"}, "needs appPassword", "MISSING_FIELD"),
        (
            {"platform": "bluesky", "handle": "a", "appPassword": "p", "pdsUrl": "ftp://x"},
            "pdsUrl must be an http:// or https:// URL",
            "INVALID_FIELD",
        ),
        ({"platform": "mastodon", "accessToken": "t"}, "needs instanceUrl", "MISSING_FIELD"),
        (
            {"platform": "telegram", "botToken": "not-a-token", "chat": "@news"},
            "does not look like a bot token",
            "INVALID_FIELD",
        ),
        (
            {"platform": "telegram", "botToken": "123456:" + "A" * 35, "chat": "news channel"},
            "must be a channel username (@mychannel) or a numeric chat id",
            "INVALID_FIELD",
        ),
    ],
)
def test_missing_or_malformed_fields_are_named(
    tenant: Tenant, body: dict[str, str], message: str, code: str
) -> None:
    response = _connect(tenant, **body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert message in response.json()["error"]
    assert len(tenant.client.get("/platform-connections").json()["connections"]) == 1


def test_a_managed_user_connects_for_itself(tenant: Tenant) -> None:
    user = tenant.client.post("/workspace/users", json={"email": "ada@example.com"}).json()
    as_ada = {"x-publora-user-id": user["user"]["_id"]}
    response = tenant.client.post(
        "/platform-connections", json={"platform": "sandbox"}, headers=as_ada
    )
    assert response.status_code == 201
    ada_id = response.json()["connection"]["platformId"]
    ada_sees = tenant.client.get("/platform-connections", headers=as_ada).json()["connections"]
    assert [c["platformId"] for c in ada_sees] == [ada_id]
    owner_sees = tenant.client.get("/platform-connections").json()["connections"]
    assert [c["platformId"] for c in owner_sees] == [tenant.platform_id]
    # Another tenant's connection cannot be deleted, even by its exact id.
    refused = tenant.client.delete(f"/platform-connections/{ada_id}")
    assert refused.status_code == 404


def test_deleting_a_connection_keeps_its_posts(tenant: Tenant) -> None:
    group_id = create_post(tenant, scheduledTime="2099-01-01T00:00:00.000Z")
    assert tenant.client.delete(f"/platform-connections/{tenant.platform_id}").status_code == 200
    post = tenant.client.get(f"/get-post/{group_id}")
    assert post.status_code == 200
