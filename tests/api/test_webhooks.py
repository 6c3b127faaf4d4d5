"""Webhooks CRUD and secret regeneration (publora-latest §2.1), on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from support import LiveServer, Tenant, error_body, make_tenant

REQUIRED = "Name, URL, and at least one event are required"
METADATA = "Cloud metadata endpoints are not allowed"
HOOK = {"name": "Prod", "url": "https://example.com/hooks", "events": ["post.published"]}


def _create(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    response = tenant.client.post("/webhooks", json={**HOOK, **fields})
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()["webhook"]
    return webhook


def test_create_answers_201_with_the_secret_once(tenant: Tenant) -> None:
    response = tenant.client.post("/webhooks", json=HOOK)
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    webhook = body["webhook"]
    assert set(webhook) == {"_id", "name", "url", "events", "secret", "isActive", "createdAt"}
    assert (webhook["name"], webhook["url"], webhook["events"]) == (
        "Prod",
        "https://example.com/hooks",
        ["post.published"],
    )
    assert webhook["isActive"] is True
    assert len(webhook["secret"]) == 64

    listed = tenant.client.get("/webhooks").json()
    assert listed["success"] is True
    [item] = listed["webhooks"]
    assert set(item) == {
        "_id", "name", "url", "events", "isActive", "failureCount", "lastTriggeredAt",
        "createdAt", "updatedAt", "__v",
    }  # fmt: skip
    assert "secret" not in item
    assert (item["_id"], item["failureCount"], item["lastTriggeredAt"]) == (webhook["_id"], 0, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "https://e.com", "events": ["post.failed"]}, REQUIRED),
        ({**HOOK, "events": []}, REQUIRED),
        ({**HOOK, "url": ""}, REQUIRED),
        ({**HOOK, "events": ["post.published", "post.deleted"]}, "Invalid events"),
        ({**HOOK, "url": "not a url"}, "Invalid URL format"),
        ({**HOOK, "url": "ftp://example.com/x"}, "URL must use HTTPS"),
        ({**HOOK, "url": "http://10.1.2.3/x"}, "Private IP addresses are not allowed"),
        ({**HOOK, "url": "https://192.168.0.5/x"}, "Private IP addresses are not allowed"),
        ({**HOOK, "url": "http://169.254.10.1/x"}, "Link-local addresses are not allowed"),
        ({**HOOK, "url": "http://169.254.169.254/latest"}, METADATA),
        ({**HOOK, "url": "http://metadata.google.internal/x"}, METADATA),
    ],
)  # fmt: skip
def test_create_refusals(tenant: Tenant, body: dict[str, Any], message: str) -> None:
    response = tenant.client.post("/webhooks", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == message
    assert tenant.client.get("/webhooks").json()["webhooks"] == []


def test_plain_http_is_accepted_as_publora_does(tenant: Tenant) -> None:
    assert _create(tenant, url="http://example.com/hook")["url"] == "http://example.com/hook"


def test_localhost_is_refused_by_a_default_installation(default_server: LiveServer) -> None:
    tenant = make_tenant(default_server)
    with tenant.client:
        for url in ("http://localhost:9000/x", "http://127.0.0.1/x", "http://[::1]/x"):
            response = tenant.client.post("/webhooks", json={**HOOK, "url": url})
            assert response.status_code == 400, url
            assert response.json()["error"] == "Localhost URLs are not allowed"


def test_at_most_ten_webhooks(tenant: Tenant) -> None:
    for _ in range(10):
        _create(tenant)
    response = tenant.client.post("/webhooks", json=HOOK)
    assert response.status_code == 400
    assert response.json()["error"] == "Maximum of 10 webhooks per user"


def test_update_applies_only_truthy_fields_and_boolean_is_active(tenant: Tenant) -> None:
    webhook = _create(tenant)
    path = f"/webhooks/{webhook['_id']}"
    response = tenant.client.patch(
        path, json={"name": "", "url": "", "events": ["post.failed"], "isActive": "false"}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body["webhook"]) == {"_id", "name", "url", "events", "isActive", "updatedAt"}
    assert (body["webhook"]["name"], body["webhook"]["events"]) == ("Prod", ["post.failed"])
    assert body["webhook"]["isActive"] is True
    off = tenant.client.patch(path, json={"isActive": False}).json()["webhook"]
    assert off["isActive"] is False
    invalid = tenant.client.patch(path, json={"events": ["nope"]})
    assert (invalid.status_code, invalid.json()["error"]) == (400, "Invalid events")
    private = tenant.client.patch(path, json={"url": "http://10.0.0.1/"})
    assert private.json()["error"] == "Private IP addresses are not allowed"
    assert tenant.client.get("/webhooks").json()["webhooks"][0]["__v"] == 2


def test_regenerate_and_delete(tenant: Tenant) -> None:
    webhook = _create(tenant)
    path = f"/webhooks/{webhook['_id']}"
    regenerated = tenant.client.post(path + "/regenerate-secret")
    assert regenerated.status_code == 200
    assert set(regenerated.json()) == {"success", "secret"}
    assert regenerated.json()["secret"] != webhook["secret"]
    assert tenant.client.delete(path).json() == {"success": True}
    assert tenant.client.get("/webhooks").json()["webhooks"] == []


def test_unknown_or_foreign_webhooks_are_not_found(new_tenant: Callable[..., Tenant]) -> None:
    owner, other = new_tenant("Owner"), new_tenant("Other")
    webhook_id = _create(owner)["_id"]
    not_found = error_body("Webhook not found", "WEBHOOK_NOT_FOUND")
    for path in (
        f"/webhooks/{webhook_id}",
        f"/webhooks/{webhook_id}/regenerate-secret",
        "/webhooks/nonsense/regenerate-secret",
    ):
        method = other.client.post if path.endswith("secret") else other.client.delete
        response = method(path)
        assert (response.status_code, response.json()) == (404, not_found)
    patched = other.client.patch(f"/webhooks/{webhook_id}", json={"name": "x"})
    assert patched.status_code == 404
    assert other.client.get(f"/webhooks/{webhook_id}/deliveries").status_code == 404
    assert len(owner.client.get("/webhooks").json()["webhooks"]) == 1
