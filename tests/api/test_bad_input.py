"""Bad input is a 400 with a stable code and writes nothing: JSON nested too deep, numbers JSON
does not have, text a database cannot store, times past the engine's range, huge page numbers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from support import LiveServer, Tenant, create_post, error_body, iso_in

MAX_JSON_DEPTH = 32  # the documented limit
TABLES = (
    "account",
    "api_key",
    "connection",
    "post_group",
    "publish_target",
    "publish_attempt",
    "media",
)
FAR_FUTURE = "9999-12-31T23:59:59Z"
INVALID_TIME = error_body("Invalid scheduled time", "INVALID_SCHEDULED_TIME")
# create-post's wording for a time it cannot take (publora-latest §2.14.1); update keeps the seed's.
INVALID_TIME_FORMAT = error_body("Invalid scheduled time format", "INVALID_SCHEDULED_TIME")
TOO_DEEP = error_body(f"JSON body is nested deeper than {MAX_JSON_DEPTH} levels", "JSON_TOO_DEEP")
NOT_FINITE = error_body(
    "Invalid JSON body: NaN, Infinity and numbers out of range are not allowed", "INVALID_JSON"
)


def row_counts(server: LiveServer) -> dict[str, int]:
    from sqlalchemy import text

    async def count(session: Any) -> dict[str, int]:
        return {
            table: int(await session.scalar(text(f"SELECT count(*) FROM {table}")))
            for table in TABLES
        }

    return server.transaction(count)


def send(tenant: Tenant, method: str, path: str, raw: bytes | str) -> httpx.Response:
    """A body sent byte for byte: httpx's own encoder refuses the values under test."""
    content = raw.encode() if isinstance(raw, str) else raw
    return tenant.client.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )


def nested(levels: int) -> str:
    """A JSON array nested `levels` deep, as text (json.dumps would recurse that deep)."""
    return "[" * levels + "]" * levels


def post_body(tenant: Tenant, settings: str) -> str:
    platforms = json.dumps([tenant.platform_id])
    return f'{{"content": "x", "platforms": {platforms}, "platformSettings": {settings}}}'


# --- Depth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000, b'{"a":' * 50_000, nested(100_000).encode()],
    ids=["open-brackets", "open-objects", "closed-brackets"],
)
def test_a_body_nested_beyond_the_limit_is_refused(
    server: LiveServer, tenant: Tenant, raw: bytes
) -> None:
    before = row_counts(server)
    response = send(tenant, "POST", "/create-post", raw)
    assert response.status_code == 400
    assert response.json() == TOO_DEEP
    assert row_counts(server) == before


def test_platform_settings_nested_950_deep_are_refused(server: LiveServer, tenant: Tenant) -> None:
    settings = '{"unknown": ' * 950 + "1" + "}" * 950
    before = row_counts(server)
    response = send(tenant, "POST", "/create-post", post_body(tenant, settings))
    assert response.status_code == 400
    assert response.json() == TOO_DEEP
    assert row_counts(server) == before


def test_the_depth_limit_counts_the_body_itself(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    # The body object is one level, so an extra field may hold MAX_JSON_DEPTH - 1 more.
    at_limit = f'{{"status": "draft", "extra": {nested(MAX_JSON_DEPTH - 1)}}}'
    assert send(tenant, "PUT", f"/update-post/{group_id}", at_limit).status_code == 200
    beyond = f'{{"status": "draft", "extra": {nested(MAX_JSON_DEPTH)}}}'
    response = send(tenant, "PUT", f"/update-post/{group_id}", beyond)
    assert response.status_code == 400
    assert response.json() == TOO_DEEP


# --- Numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_numbers_json_does_not_have_are_refused(
    server: LiveServer, tenant: Tenant, number: str
) -> None:
    before = row_counts(server)
    settings = f'{{"unknown": {{"ratio": {number}}}}}'
    response = send(tenant, "POST", "/create-post", post_body(tenant, settings))
    assert response.status_code == 400
    assert response.json() == NOT_FINITE
    assert row_counts(server) == before


def test_large_but_finite_numbers_are_kept(tenant: Tenant) -> None:
    # In a field create-post ignores: every platformSettings path is a known one (§5.1).
    numbers = '{"big": 1e308, "int": 123456789012345678901234567890}'
    body = post_body(tenant, "{}")[:-1] + f', "extra": {numbers}}}'
    response = send(tenant, "POST", "/create-post", body)
    assert response.status_code == 200, response.text


# --- Text -------------------------------------------------------------------------------------

SURROGATE = "\ud800"
NUL = "a\x00b"
PROBLEMS = {
    SURROGATE: "contains an unpaired surrogate, which is not Unicode text",
    NUL: "contains a NUL character",
}


def _upload_body(tenant: Tenant, value: str) -> tuple[str, dict[str, Any], str]:
    group_id = create_post(tenant, status="draft")
    fields = {"postGroupId": group_id, "fileName": value, "contentType": "image/png"}
    return "/get-upload-url", fields, "fileName"


TEXT_FIELDS = {
    "content": lambda t, v: (
        "/create-post",
        {"content": v, "platforms": [t.platform_id]},
        "content",
    ),
    "alt-text": lambda t, v: (
        "/create-post",
        {"content": "x", "platforms": [t.platform_id], "altTexts": ["ok", v]},
        "altTexts[1]",
    ),
    "settings-value": lambda t, v: (
        "/create-post",
        {"content": "x", "platforms": [t.platform_id], "platformSettings": {"x": {"y": v}}},
        "platformSettings.x.y",
    ),
    "settings-key": lambda t, v: (
        "/create-post",
        {"content": "x", "platforms": [t.platform_id], "platformSettings": {v: {}}},
        "a key of platformSettings",
    ),
    "platform-id": lambda t, v: (
        "/create-post",
        {"content": "x", "platforms": [v]},
        "platforms[0]",
    ),
    "file-name": _upload_body,
    "email": lambda t, v: ("/workspace/users", {"email": v}, "email"),
    "display-name": lambda t, v: (
        "/workspace/users",
        {"email": "ada@example.com", "displayName": v},
        "displayName",
    ),
}


@pytest.mark.parametrize("value", [SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_text_no_database_can_store_is_refused(
    server: LiveServer, tenant: Tenant, field: str, value: str
) -> None:
    path, body, where = TEXT_FIELDS[field](tenant, value)
    before = row_counts(server)
    # json.dumps escapes the surrogate as \ud800, as a client's JSON encoder would.
    response = send(tenant, "POST", path, json.dumps(body))
    assert response.status_code == 400
    assert response.json() == error_body(f"{where} {PROBLEMS[value]}", "INVALID_TEXT")
    assert row_counts(server) == before


def test_surrogate_pairs_are_ordinary_text(tenant: Tenant) -> None:
    response = send(
        tenant,
        "POST",
        "/create-post",
        json.dumps({"content": "smile \U0001f600", "platforms": [tenant.platform_id]}),
    )
    assert "\\ud83d\\ude00" in response.request.content.decode()
    assert response.status_code == 200, response.text
    group_id = response.json()["postGroupId"]
    assert tenant.client.get(f"/get-post/{group_id}").json()["content"] == "smile \U0001f600"


# --- Times ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [None, "draft", "scheduled"])
@pytest.mark.parametrize("moment", [FAR_FUTURE, "9999-01-01T00:00:00Z"])
def test_a_time_past_the_engines_range_is_refused_on_create(
    server: LiveServer, tenant: Tenant, status: str | None, moment: str
) -> None:
    body: dict[str, Any] = {"content": "x", "platforms": [tenant.platform_id]}
    body["scheduledTime"] = moment
    if status is not None:
        body["status"] = status
    before = row_counts(server)
    response = tenant.client.post("/create-post", json=body)
    assert response.status_code == 400
    assert response.json() == INVALID_TIME_FORMAT
    assert row_counts(server) == before


@pytest.mark.parametrize(
    "change",
    [
        {"scheduledTime": FAR_FUTURE},
        {"status": "scheduled", "scheduledTime": FAR_FUTURE},
        {"status": "draft", "scheduledTime": "9999-01-01T00:00:00Z"},
    ],
)
def test_a_time_past_the_engines_range_is_refused_on_update(
    tenant: Tenant, change: dict[str, str]
) -> None:
    group_id = create_post(tenant, status="draft", scheduledTime=iso_in(days=1))
    before = tenant.client.get(f"/get-post/{group_id}").json()
    response = tenant.client.put(f"/update-post/{group_id}", json=change)
    assert response.status_code == 400
    assert response.json() == INVALID_TIME
    assert tenant.client.get(f"/get-post/{group_id}").json() == before


def test_the_last_moment_before_the_limit_is_accepted(tenant: Tenant) -> None:
    last = "9998-12-31T23:59:59.999Z"
    group_id = create_post(tenant, scheduledTime=last)
    response = tenant.client.put(f"/update-post/{group_id}", json={"scheduledTime": last})
    assert response.status_code == 200, response.text
    assert tenant.client.get(f"/get-post/{group_id}").json()["scheduledTime"] == last


# --- Pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "limit"),
    [
        (9223372036854775807, None),
        (9223372036854775808, None),
        (10**30, 9223372036854775807),
        (92233720368547759, 100),
    ],
)
def test_a_page_far_beyond_the_last_is_empty_with_exact_totals(
    tenant: Tenant, page: int, limit: int | None
) -> None:
    create_post(tenant)
    create_post(tenant, status="draft")
    params = {"page": str(page)} | ({"limit": str(limit)} if limit is not None else {})
    response = tenant.client.get("/list-posts", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["posts"] == []
    expected_limit = 20 if limit is None else 100
    assert body["pagination"] == {
        "page": page,
        "limit": expected_limit,
        "totalItems": 2,
        "totalPages": 1,
        "hasNextPage": False,
        "hasPrevPage": True,
    }


# --- Text in the URL --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/get-post/%00", "Post group not found"),
        ("PUT", "/update-post/%00", "Post group not found"),
        ("DELETE", "/delete-post/%00", "Post group not found"),
        ("DELETE", "/platform-connections/sandbox-%00", "Platform connection not found"),
        ("DELETE", "/workspace/users/%00", "User not found or not managed by this key"),
        ("POST", "/workspace/users/%00/api-key", "User not found or not managed by this key"),
    ],
)
def test_an_id_with_a_nul_is_an_unknown_id(
    server: LiveServer, tenant: Tenant, method: str, path: str, message: str
) -> None:
    before = row_counts(server)
    response = tenant.client.request(method, path, json={"status": "draft"})
    assert response.status_code == 404
    assert response.json()["error"] == message
    assert row_counts(server) == before


@pytest.mark.parametrize("name", ["platform", "status", "sortBy"])
def test_a_nul_in_the_list_query_is_refused(tenant: Tenant, name: str) -> None:
    create_post(tenant)
    response = tenant.client.get("/list-posts", params={name: "sand\x00box"})
    assert response.status_code == 400
    assert response.json() == error_body(f"{name} contains a NUL character", "INVALID_TEXT")


def test_a_draft_stored_with_a_time_past_the_range_cannot_be_scheduled(
    server: LiveServer, tenant: Tenant
) -> None:
    """Drafts created before the bound existed may hold such a time."""
    from sqlalchemy import update

    from herald.domain.timestamps import parse_timestamp
    from herald.models import PostGroup

    group_id = create_post(tenant, status="draft", scheduledTime=iso_in(days=1))

    async def backdate(session: Any) -> None:
        far = parse_timestamp(FAR_FUTURE)
        await session.execute(
            update(PostGroup).where(PostGroup.id == group_id).values(scheduled_at=far)
        )

    server.transaction(backdate)
    before = tenant.client.get(f"/get-post/{group_id}").json()
    response = tenant.client.put(f"/update-post/{group_id}", json={"status": "scheduled"})
    assert response.status_code == 400
    assert response.json() == INVALID_TIME
    assert tenant.client.get(f"/get-post/{group_id}").json() == before
