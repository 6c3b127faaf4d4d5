"""HTTP-level behaviour: JSON bodies on every error, body limits, rate limits, OpenAPI."""

from __future__ import annotations

import logging
import socket
import time

import httpx
import pytest

from support import LiveServer, Tenant, error_body


def test_unknown_route_is_json_404(tenant: Tenant, server: LiveServer) -> None:
    for url in ("/api/v1/nope", "/nothing-here", "/api/v2/create-post"):
        response = httpx.get(server.base_url + url)
        assert response.status_code == 404
        assert response.json() == error_body("Not found", "NOT_FOUND")


def test_wrong_method_is_json_405(tenant: Tenant) -> None:
    response = tenant.client.get("/create-post")
    assert response.status_code == 405
    assert response.json() == error_body("Method not allowed", "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize(
    "raw", [b"{", b"not json", b'{"content": }', b"\xff\xfe", b"[1, 2]", b'"text"']
)
def test_malformed_json_is_400(tenant: Tenant, raw: bytes) -> None:
    response = tenant.client.post(
        "/create-post", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    expected = (
        "Request body must be a JSON object"
        if raw in (b"[1, 2]", b'"text"')
        else "Invalid JSON body"
    )
    assert response.json() == error_body(expected, "INVALID_JSON")


def test_body_over_one_megabyte_is_413(tenant: Tenant) -> None:
    big = b'{"content": "' + b"a" * (1024 * 1024) + b'", "platforms": []}'
    response = tenant.client.post(
        "/create-post", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == error_body("Request body too large", "PAYLOAD_TOO_LARGE")


def test_chunked_body_over_the_limit_is_413_too(tenant: Tenant) -> None:
    def chunks() -> object:
        for _ in range(17):
            yield b"x" * 65536

    response = tenant.client.post(
        "/create-post",
        content=chunks(),
        headers={"Content-Type": "application/json"},  # type: ignore[arg-type]
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"] == "Request body too large"


def test_unexpected_errors_are_json_500_without_internals(
    server: LiveServer, tenant: Tenant
) -> None:
    response = tenant.client.get("/__test/explode")
    assert response.status_code == 500
    assert response.json() == error_body("Internal server error", "INTERNAL_ERROR")
    assert "sk_should_never_leak" not in response.text


def test_a_failed_request_is_logged_on_one_line_whatever_its_path(
    server: LiveServer, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    """The path is the client's: a decoded %0A in it must not break the line (routes match a
    path with one trailing newline, as Python's `$` does)."""
    with caplog.at_level(logging.ERROR, logger="herald.api"):
        response = tenant.client.get("/__test/explode%0A")
    assert response.status_code == 500
    lines = [r.getMessage() for r in caplog.records if r.name == "herald.api"]
    assert len(lines) == 1
    assert "\n" not in lines[0]
    assert "\r" not in lines[0]
    assert "path=/api/v1/__test/explode%0A " in lines[0]


def test_rate_limit_headers_on_every_authenticated_response(tenant: Tenant) -> None:
    ok = tenant.client.get("/list-posts")
    missing = tenant.client.get("/get-post/507f1f77bcf86cd799439011")
    for response in (ok, missing):
        assert response.headers["x-ratelimit-limit"] == "1200"
        assert int(response.headers["x-ratelimit-reset"]) > time.time()
    assert int(ok.headers["x-ratelimit-remaining"]) == 1199
    assert int(missing.headers["x-ratelimit-remaining"]) == 1198


def test_rate_limit_is_per_account_with_retry_after(
    server: LiveServer, tenant: Tenant, new_tenant: object
) -> None:
    server.context.rate_limiter.limit = 3
    # Start at a window edge so the three requests share one window.
    time.sleep(max(0.0, 60 - time.time() % 60 + 0.05) if time.time() % 60 > 57 else 0)
    for remaining in (2, 1, 0):
        response = tenant.client.get("/list-posts")
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining"] == str(remaining)
    limited = tenant.client.get("/list-posts")
    assert limited.status_code == 429
    body = limited.json()
    assert body["error"] == "Rate limit exceeded"
    assert body["success"] is False
    assert 1 <= body["retryAfter"] <= 60
    assert limited.headers["retry-after"] == str(body["retryAfter"])
    assert limited.headers["x-ratelimit-remaining"] == "0"
    other = new_tenant("Other")  # type: ignore[operator]
    assert other.client.get("/list-posts").status_code == 200


def test_rate_limit_zero_turns_it_off(server: LiveServer, tenant: Tenant) -> None:
    server.context.rate_limiter.limit = 0
    response = tenant.client.get("/list-posts")
    assert response.status_code == 200
    assert "x-ratelimit-limit" not in response.headers


def test_openapi_describes_the_wire_shapes(server: LiveServer) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/create-post",
        "/api/v1/get-post/{post_group_id}",
        "/api/v1/list-posts",
        "/api/v1/update-post/{post_group_id}",
        "/api/v1/delete-post/{post_group_id}",
        "/api/v1/platform-connections",
        "/api/v1/workspace/users",
    ):
        assert path in paths, path
    create = paths["/api/v1/create-post"]["post"]
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"content", "platforms", "scheduledTime", "platformSettings", "altTexts"} <= set(
        body_schema["properties"]
    )
    schemas = spec["components"]["schemas"]
    assert {"postGroupId", "posts", "success"} <= set(schemas["CreatePostResponse"]["properties"])
    assert "_id" in schemas["UpdatedGroup"]["properties"]
    assert "x-publora-key" in str(spec["components"]["securitySchemes"])
    assert httpx.get(server.base_url + "/docs").status_code == 200


def test_responses_validate_against_the_documented_models(tenant: Tenant) -> None:
    from herald.api.schemas.connection import ConnectionsResponse
    from herald.api.schemas.post_response import (
        CreatePostResponse,
        GetPostResponse,
        ListPostsResponse,
        UpdatePostResponse,
    )

    created = tenant.client.post(
        "/create-post", json={"content": "x", "platforms": [tenant.platform_id]}
    )
    CreatePostResponse.model_validate(created.json())
    group_id = created.json()["postGroupId"]
    GetPostResponse.model_validate(tenant.client.get(f"/get-post/{group_id}").json())
    ListPostsResponse.model_validate(tenant.client.get("/list-posts").json())
    ConnectionsResponse.model_validate(tenant.client.get("/platform-connections").json())
    updated = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    UpdatePostResponse.model_validate(updated.json())


def test_a_half_sent_request_does_not_hang_the_server(server: LiveServer, tenant: Tenant) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST /api/v1/create-post HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
    assert tenant.client.get("/list-posts").status_code == 200
