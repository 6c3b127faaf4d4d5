"""Every free-text field of the API has a documented maximum, refused with a 400 that names it."""

from __future__ import annotations

from typing import Any

import pytest

from sim_support import closed_port
from support import Tenant, error_body

CONTENT_MAX = 100_000
PLATFORMS_MAX = 50


def _too_long(field: str, limit: int) -> dict[str, Any]:
    message = f"{field} must be at most {limit} characters"
    return {**error_body(message, "FIELD_TOO_LONG"), "field": field, "limit": limit}


def _create(tenant: Tenant, **fields: Any) -> Any:
    body = {"content": "Hi", "platforms": [tenant.platform_id], "status": "draft", **fields}
    return tenant.client.post("/create-post", json=body)


def test_content_up_to_the_maximum_is_planned_and_stored(tenant: Tenant) -> None:
    content = ("word " * (CONTENT_MAX // 5))[: CONTENT_MAX - 1] + "."
    response = _create(tenant, content=content)
    assert response.status_code == 200, response.text
    post = tenant.client.get(f"/get-post/{response.json()['postGroupId']}").json()
    assert post["content"] == content
    assert len(post["posts"][0]["threadParts"]) > 200


@pytest.mark.parametrize("unit", ["a", "\U0001f1fa\U0001f1f8", "e\u0301"])
def test_content_over_the_maximum_is_refused_with_the_limit(tenant: Tenant, unit: str) -> None:
    content = unit * (CONTENT_MAX // len(unit) + 1)
    response = _create(tenant, content=content)
    assert response.status_code == 400
    message = f"Content too long: {len(content)} characters, the limit is {CONTENT_MAX}"
    assert response.json() == {**error_body(message, "CONTENT_TOO_LONG"), "limit": CONTENT_MAX}
    assert tenant.client.get("/list-posts").json()["pagination"]["totalItems"] == 0


def test_more_platforms_than_the_cap_are_refused_naming_the_cap(tenant: Tenant) -> None:
    wanted = [tenant.platform_id] * (PLATFORMS_MAX + 1)  # duplicates count: the list is the cost
    response = _create(tenant, platforms=wanted)
    assert response.status_code == 400
    message = f"Too many platforms: {PLATFORMS_MAX + 1}, the limit is {PLATFORMS_MAX}"
    assert response.json() == {**error_body(message, "TOO_MANY_PLATFORMS"), "limit": PLATFORMS_MAX}


def test_up_to_the_cap_unknown_ids_are_all_listed(tenant: Tenant) -> None:
    unknown = [f"sandbox-unknown{i}" for i in range(PLATFORMS_MAX - 1)]
    response = _create(tenant, platforms=[tenant.platform_id, *unknown])
    assert response.status_code == 400
    assert response.json() == {
        **error_body("Invalid platform ID", "INVALID_PLATFORM_ID"),
        "platformIds": unknown,
    }


def test_an_over_long_platform_id_is_an_invalid_one(tenant: Tenant) -> None:
    long_id = "sandbox-" + "1" * 400  # longer than any stored account id can be
    response = _create(tenant, platforms=[long_id])
    assert response.status_code == 400
    assert response.json()["platformIds"] == [long_id]


def test_alt_texts_have_a_length_and_a_count(tenant: Tenant) -> None:
    assert _create(tenant, altTexts=["a" * 2000] * 20).status_code == 200
    too_long = _create(tenant, altTexts=["fine", "a" * 2001])
    assert too_long.status_code == 400
    assert too_long.json() == _too_long("altTexts[1]", 2000)
    too_many = _create(tenant, altTexts=["a"] * 21)
    assert too_many.status_code == 400
    assert too_many.json() == {
        **error_body("Too many altTexts: 21, the limit is 20", "TOO_MANY_ALT_TEXTS"),
        "limit": 20,
    }


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"youtube": {"categoryId": "d" * 5001}}, "platformSettings.youtube.categoryId"),
        ({"youtube": {"tags": ["fine", "n" * 5001]}}, "platformSettings.youtube.tags[1]"),
    ],
)
def test_platform_settings_strings_have_a_maximum(
    tenant: Tenant, settings: dict[str, Any], field: str
) -> None:
    response = _create(tenant, platformSettings=settings)
    assert response.status_code == 400
    assert response.json() == _too_long(field, 5000)


def test_platform_settings_keys_have_a_maximum(tenant: Tenant) -> None:
    response = _create(tenant, platformSettings={"youtube": {"k" * 101: True}})
    assert response.status_code == 400
    message = "platformSettings.youtube keys must be at most 100 characters"
    assert response.json() == {
        **error_body(message, "FIELD_TOO_LONG"),
        "field": "platformSettings.youtube",
        "limit": 100,
    }


def test_platform_settings_strings_at_the_maximum_are_kept(tenant: Tenant) -> None:
    settings = {"youtube": {"categoryId": "n" * 5000}}
    response = _create(tenant, platformSettings=settings)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("field", ["email", "username"])
def test_workspace_user_email_has_a_maximum(tenant: Tenant, field: str) -> None:
    address = "a" * 189 + "@example.com"  # 201 characters
    response = tenant.client.post("/workspace/users", json={field: address})
    assert response.status_code == 400
    assert response.json() == _too_long(field, 200)
    assert tenant.client.get("/workspace/users").json()["users"] == []


def test_workspace_user_email_at_the_maximum_is_stored_as_its_name(tenant: Tenant) -> None:
    address = "a" * 188 + "@example.com"  # 200 characters: also the default display name
    response = tenant.client.post("/workspace/users", json={"email": address})
    assert response.status_code == 201, response.text
    assert response.json()["user"]["displayName"] == address


def test_workspace_user_display_name_has_a_maximum(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/workspace/users", json={"email": "ada@example.com", "displayName": "D" * 201}
    )
    assert response.status_code == 400
    assert response.json() == _too_long("displayName", 200)


def test_a_very_long_email_is_refused_not_stored(tenant: Tenant) -> None:
    response = tenant.client.post("/workspace/users", json={"email": "e" * 900_000})
    assert response.status_code == 400
    assert response.json()["code"] == "FIELD_TOO_LONG"


def test_connection_fields_have_a_maximum(tenant: Tenant) -> None:
    # Refused before any platform is asked: the PDS address is a port nothing listens on.
    body = {
        "platform": "bluesky",
        "handle": "h" * 2049,
        "appPassword": "xxxx-xxxx-xxxx-xxxx",
        "pdsUrl": f"http://127.0.0.1:{closed_port()}",
    }
    response = tenant.client.post("/platform-connections", json=body)
    assert response.status_code == 400
    assert response.json() == _too_long("handle", 2048)
