"""Auth, workspace managed users and tenant isolation (publora-spec §1.2–1.3, DESIGN §3.10)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from support import LiveServer, Tenant, add_sandbox_connection, create_post, error_body

Factory = Callable[..., Tenant]


def _create_user(tenant: Tenant, path: str = "/workspace/users", **body: str) -> dict[str, object]:
    response = tenant.client.post(path, json=body or {"username": "ada@example.com"})
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()["user"]
    return result


def _as_user(tenant: Tenant, user_id: str) -> dict[str, str]:
    return {"x-publora-user-id": user_id}


def test_create_user_answers_publoras_managed_user(tenant: Tenant) -> None:
    """Publora's workspace guide and OpenAPI (§2.19): 201 {user}, the list {users}."""
    ada = _create_user(tenant, username="ada@example.com", displayName="Ada")
    assert ada == {
        "_id": ada["_id"],
        "username": "ada@example.com",
        "displayName": "Ada",
        "role": "managed",
        "dailyPostsLeft": 100,
        "connectionsPageUrl": None,
        "connectionsPageTokenExpiresAt": None,
    }
    # The February guide's `email` is still accepted; the name defaults to the address.
    bob = _create_user(tenant, path="/workspace-users", email="bob@example.com")
    assert bob["displayName"] == "bob@example.com"
    listed = tenant.client.get("/workspace/users").json()
    assert listed == {"users": [ada, bob]}  # no `success` key
    assert tenant.client.get("/workspace-users").json() == listed


def test_create_user_errors(tenant: Tenant) -> None:
    response = tenant.client.post("/workspace/users", json={"displayName": "Nobody"})
    assert response.status_code == 400
    assert response.json() == error_body("Email is required", "EMAIL_REQUIRED")
    ada = _create_user(tenant, username="ada@example.com")
    again = tenant.client.post("/workspace/users", json={"username": "ada@example.com"})
    assert again.status_code == 409
    assert again.json() == {
        **error_body("User with this email already exists", "email_exists"),
        "userId": ada["_id"],
        "alreadyInWorkspace": True,
        "managedByAnotherWorkspace": False,
        "reason": "already_in_workspace",
        "attachable": False,
        "requiresConsent": False,
    }


def test_non_workspace_keys_have_no_workspace(new_tenant: Factory) -> None:
    plain = new_tenant("Solo", workspace=False)
    for method, path in (("GET", "/workspace/users"), ("POST", "/workspace/users")):
        response = plain.client.request(method, path, json={"email": "a@b.c"})
        assert response.status_code == 403
        assert response.json() == error_body(
            "Workspace access is not enabled for this key", "WORKSPACE_ACCESS_DISABLED"
        )
    response = plain.client.get(
        "/list-posts", headers={"x-publora-user-id": "507f1f77bcf86cd799439011"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "Workspace access not enabled"


def test_user_header_rules(tenant: Tenant, new_tenant: Factory) -> None:
    malformed = tenant.client.get("/list-posts", headers={"x-publora-user-id": "user_abc123"})
    assert malformed.status_code == 400
    assert malformed.json() == error_body("Invalid x-publora-user-id", "INVALID_USER_ID")
    unknown = tenant.client.get(
        "/list-posts", headers={"x-publora-user-id": "507f1f77bcf86cd799439011"}
    )
    assert unknown.status_code == 403
    assert unknown.json() == error_body("User is not managed by key", "USER_NOT_MANAGED")
    other = new_tenant("Other")
    theirs = _create_user(other, email="x@example.com")["_id"]
    foreign = tenant.client.get("/list-posts", headers={"x-publora-user-id": str(theirs)})
    assert foreign.status_code == 403
    assert foreign.json()["error"] == "User is not managed by key"


def test_managed_users_posts_are_isolated(server: LiveServer, tenant: Tenant) -> None:
    ada = str(_create_user(tenant, email="ada@example.com")["_id"])
    bob = str(_create_user(tenant, email="bob@example.com")["_id"])
    ada_connection = add_sandbox_connection(server, ada)
    as_ada = _as_user(tenant, ada)
    # Ada's connections and posts are reached only with her header.
    connections = tenant.client.get("/platform-connections", headers=as_ada).json()["connections"]
    assert [c["platformId"] for c in connections] == [ada_connection]
    created = tenant.client.post(
        "/create-post", headers=as_ada, json={"content": "Ada's", "platforms": [ada_connection]}
    )
    group_id = created.json()["postGroupId"]
    # The parent's own connection is not Ada's.
    refused = tenant.client.post(
        "/create-post", headers=as_ada, json={"content": "x", "platforms": [tenant.platform_id]}
    )
    assert refused.json()["error"] == "Invalid platform ID"
    assert tenant.client.get(f"/get-post/{group_id}", headers=as_ada).status_code == 200
    # Invisible to the parent without the header, and to a sibling.
    for headers in ({}, _as_user(tenant, bob)):
        assert tenant.client.get(f"/get-post/{group_id}", headers=headers).status_code == 404
        assert tenant.client.get("/list-posts", headers=headers).json()["posts"] == []
        assert (
            tenant.client.put(
                f"/update-post/{group_id}", headers=headers, json={"status": "draft"}
            ).status_code
            == 404
        )
        assert tenant.client.delete(f"/delete-post/{group_id}", headers=headers).status_code == 404
    assert tenant.client.get("/list-posts", headers=as_ada).json()["pagination"]["totalItems"] == 1


def test_per_user_keys_replace_each_other(server: LiveServer, tenant: Tenant) -> None:
    ada = str(_create_user(tenant, email="ada@example.com")["_id"])
    first = tenant.client.post(f"/workspace/users/{ada}/api-key")
    assert first.status_code == 200
    assert first.json()["message"] == "API key generated successfully"
    assert first.json()["userId"] == ada
    key_one = first.json()["apiKey"]
    assert key_one.startswith("sk_")
    ada_connection = add_sandbox_connection(server, ada)
    with httpx.Client(
        base_url=server.base_url + "/api/v1", headers={"x-publora-key": key_one}
    ) as c:
        assert [x["platformId"] for x in c.get("/platform-connections").json()["connections"]] == [
            ada_connection
        ]
        # A per-user key is not a workspace key.
        assert c.get("/workspace/users").status_code == 403
        key_two = tenant.client.post(f"/workspace-users/{ada}/api-key", json={}).json()["apiKey"]
        assert c.get("/list-posts").status_code == 401
        c.headers["x-publora-key"] = key_two
        assert c.get("/list-posts").status_code == 200


def test_delete_user_removes_their_data(server: LiveServer, tenant: Tenant) -> None:
    ada = str(_create_user(tenant, email="ada@example.com")["_id"])
    connection = add_sandbox_connection(server, ada)
    tenant.client.post(
        "/create-post",
        headers=_as_user(tenant, ada),
        json={"content": "x", "platforms": [connection]},
    )
    response = tenant.client.delete(f"/workspace/users/{ada}")
    assert response.json() == {"success": True}
    assert tenant.client.get("/workspace/users").json()["users"] == []
    after = tenant.client.get("/list-posts", headers=_as_user(tenant, ada))
    assert after.status_code == 403
    missing = tenant.client.delete(f"/workspace-users/{ada}")
    assert missing.status_code == 404
    assert missing.json() == error_body(
        "User not found or not managed by this key", "USER_NOT_FOUND"
    )


def test_revoked_and_unknown_keys_are_refused(server: LiveServer, tenant: Tenant) -> None:
    from herald.domain.timestamps import utc_now
    from herald.store.account import ApiKeyStore

    assert tenant.client.get("/list-posts").status_code == 200

    async def revoke(session: object) -> None:
        await ApiKeyStore(session).revoke_all(tenant.account_id, utc_now())  # type: ignore[arg-type]

    server.transaction(revoke)
    response = tenant.client.get("/list-posts")
    assert response.status_code == 401
    assert response.json() == error_body("Invalid API key", "INVALID_API_KEY")


@pytest.mark.parametrize("path", ["/platform-connections", "/list-posts", "/workspace/users"])
def test_every_endpoint_requires_a_key(anonymous: httpx.Client, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 401
    assert response.json() == error_body("Invalid API key", "INVALID_API_KEY")


def test_header_names_are_case_insensitive_and_mcp_header_is_ignored(
    anonymous: httpx.Client, tenant: Tenant
) -> None:
    response = anonymous.get(
        "/platform-connections",
        headers={"X-Publora-Key": tenant.api_key, "x-publora-client": "mcp"},
    )
    assert response.status_code == 200


def test_connections_shape(tenant: Tenant) -> None:
    body = tenant.client.get("/platform-connections").json()
    connection = body["connections"][0]
    assert body["success"] is True
    assert set(connection) == {
        "platformId",
        "platform",
        "username",
        "displayName",
        "profileImageUrl",
        "profileUrl",
        "accessTokenExpiresAt",
        "tokenStatus",
        "tokenExpiresIn",
    }
    assert connection["platformId"] == tenant.platform_id
    assert connection["platform"] == "sandbox"
    assert connection["accessTokenExpiresAt"] is None
    # A credential that never expires is healthy with no countdown (Publora §2.17).
    assert (connection["tokenStatus"], connection["tokenExpiresIn"]) == ("valid", None)
    assert connection["profileImageUrl"] is None  # no picture: null, as "" is not a URI
    assert create_post(tenant)


def test_another_accounts_groups_are_invisible(tenant: Tenant, new_tenant: Factory) -> None:
    other = new_tenant("Other")
    group_id = create_post(other)
    assert tenant.client.get(f"/get-post/{group_id}").json() == error_body(
        "Post group not found", "POST_GROUP_NOT_FOUND"
    )
    update = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert (update.status_code, update.json()["error"]) == (404, "Post group not found")
    delete = tenant.client.delete(f"/delete-post/{group_id}")
    assert (delete.status_code, delete.json()["error"]) == (404, "Post group not found")
    assert tenant.client.get("/list-posts").json()["posts"] == []
    assert other.client.get(f"/get-post/{group_id}").json()["status"] == "scheduled"


def test_attach_re_attaches_own_users_only(tenant: Tenant, new_tenant: Factory) -> None:
    """Publora's attach (§2.19): Herald has no standalone users, so only a user of this
    workspace can be attached, again, without a consent token."""
    ada = _create_user(tenant, username="ada@example.com")
    for body in (
        {"email": "ada@example.com"},
        {"userId": ada["_id"]},
        {"username": "ada@example.com"},
    ):
        response = tenant.client.post("/workspace/users/attach", json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "user": {**ada, "isActive": True},
            "alreadyInWorkspace": True,
        }
    theirs = _create_user(new_tenant("Other"), username="bob@example.com")
    for body, status, code in (
        ({}, 400, "missing_identifier"),
        ({"email": "not-an-address"}, 400, "invalid_email"),
        ({"userId": "abc"}, 400, "invalid_user_id"),
        ({"email": "bob@example.com"}, 404, "user_not_found"),
        ({"userId": theirs["_id"]}, 404, "user_not_found"),
    ):
        response = tenant.client.post("/workspace/users/attach", json=body)
        assert (response.status_code, response.json()["code"]) == (status, code), body
