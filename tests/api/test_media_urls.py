"""mediaUrls on create-post and update-post (publora-latest §2.14, §2.15, §5.7): files fetched
from a real loopback HTTP server, through the egress policy, into the media store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from media_url_support import PRIVATE_URL, FileServer, file_server
from support import LiveServer, Tenant, create_post, iso_in


@pytest.fixture
def files() -> Iterator[FileServer]:
    with file_server() as served:
        yield served


def _stored_files(server: LiveServer) -> list[Path]:
    root = Path(server.context.media_store.root)  # type: ignore[attr-defined]
    return [p for p in root.rglob("*") if p.is_file() and "~meta" not in p.name]


def _create(tenant: Tenant, urls: list[str], **fields: Any) -> httpx.Response:
    body = {
        "content": "With pictures",
        "platforms": [tenant.platform_id],
        "scheduledTime": iso_in(days=1),
        "mediaUrls": urls,
        **fields,
    }
    return tenant.client.post("/create-post", json=body)


def test_create_post_fetches_every_url_and_reports_each(tenant: Tenant, files: FileServer) -> None:
    response = _create(tenant, [files.url("/red.png"), files.url("/blue.png")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(m["url"], m["ok"], m["type"], m["mimeType"]) for m in body["media"]] == [
        (files.url("/red.png"), True, "image", "image/png"),
        (files.url("/blue.png"), True, "image", "image/png"),
    ]
    got = tenant.client.get(f"/get-post/{body['postGroupId']}").json()
    assert got["status"] == "scheduled"
    assert [m["mediaId"] for m in got["media"]] == [m["mediaId"] for m in body["media"]]
    assert [m["status"] for m in got["media"]] == ["ready", "ready"]
    assert [m["sourceFileName"] for m in got["media"]] == ["red.png", "blue.png"]
    # The stored bytes are the served ones.
    served = httpx.get(got["media"][1]["url"])
    assert served.content == files.files["/blue.png"][1]
    assert served.headers["content-type"] == "image/png"


def test_a_redirect_is_followed(tenant: Tenant, files: FileServer) -> None:
    response = _create(tenant, [files.url("/redirect.png")])
    assert response.status_code == 200, response.text
    assert files.requests == ["/redirect.png", "/red.png"]
    assert response.json()["media"][0]["ok"] is True


def _failed(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "Media ingestion failed"
    results: list[dict[str, Any]] = body["mediaResults"]
    return results


@pytest.mark.parametrize(
    ("path", "code", "error"),
    [
        ("/missing.png", "MEDIA_URL_HTTP_ERROR", "Fetching {url} returned HTTP 404"),
        (
            "/notes.png",
            "MEDIA_URL_UNSUPPORTED_FORMAT",
            "{url} is not an image (JPEG, PNG, GIF, WebP) or a video (MP4, MOV, WebM, AVI)",
        ),
        ("/too-big.png", "MEDIA_URL_TOO_LARGE", "{url} is larger than 25 MB"),
    ],
)
def test_one_failed_url_attaches_nothing(
    server: LiveServer, tenant: Tenant, files: FileServer, path: str, code: str, error: str
) -> None:
    before = _stored_files(server)
    good, bad, later = files.url("/red.png"), files.url(path), files.url("/blue.png")
    results = _failed(_create(tenant, [good, bad, later]))
    assert [(r["url"], r["ok"], r["code"]) for r in results] == [
        (good, False, "MEDIA_URL_ROLLED_BACK"),
        (bad, False, code),
        (later, False, "MEDIA_URL_SKIPPED"),
    ]
    assert results[1]["error"] == error.format(url=bad)
    assert "/blue.png" not in files.requests  # never tried
    assert tenant.client.get("/list-posts").json()["posts"] == []  # no post
    assert _stored_files(server) == before  # the fetched file is gone again


def test_a_private_address_is_refused_by_the_egress_policy(
    tenant: Tenant, files: FileServer
) -> None:
    results = _failed(_create(tenant, [PRIVATE_URL]))
    assert results == [
        {
            "url": PRIVATE_URL,
            "ok": False,
            "code": "MEDIA_URL_BLOCKED_HOST",
            "error": f"Fetching {PRIVATE_URL} was refused: its host is not a public internet "
            "address",
        }
    ]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/a.png", "MEDIA_URL_PROTOCOL"),
        ("http://user:secret@127.0.0.1/a.png", "MEDIA_URL_CREDENTIALS"),
        ("http://[::1/a.png", "MEDIA_URL_INVALID"),
    ],
)
def test_urls_checked_before_any_connection(tenant: Tenant, url: str, code: str) -> None:
    assert _failed(_create(tenant, [url]))[0]["code"] == code


@pytest.mark.parametrize(
    ("urls", "message"),
    [
        ("https://x/a.png", "mediaUrls must be an array of public https URLs"),
        ([], "mediaUrls must contain at least one URL when provided"),
        (["https://x/a.png"] * 11, "mediaUrls supports at most 10 URLs per request"),
        (["https://x/a.png", ""], "Every mediaUrls entry must be a non-empty string"),
        ([1], "Every mediaUrls entry must be a non-empty string"),
    ],
)
def test_bad_media_urls_fields(tenant: Tenant, urls: object, message: str) -> None:
    response = _create(tenant, urls)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response.json()["error"] == message


def test_sixty_urls_an_hour_then_429(tenant: Tenant, files: FileServer) -> None:
    for _ in range(15):  # the sandbox takes four images a post
        assert _create(tenant, [files.url("/red.png")] * 4).status_code == 200
    served = len(files.requests)
    refused = _create(tenant, [files.url("/red.png")])
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "MEDIA_URL_RATE_LIMITED"
    assert body["error"] == (
        "Media URL ingestion rate limit reached (60 URLs/hour). Retry later or use the "
        "presigned get-upload-url flow."
    )
    assert 0 < body["retryAfterSec"] <= 3600
    assert refused.headers["Retry-After"] == str(body["retryAfterSec"])
    assert len(files.requests) == served  # nothing fetched
    # Requests without URLs are not limited.
    assert (
        tenant.client.post(
            "/create-post", json={"content": "x", "platforms": [tenant.platform_id]}
        ).status_code
        == 200
    )


def test_update_post_appends_media_and_keeps_the_schedule(
    tenant: Tenant, files: FileServer
) -> None:
    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    first = tenant.client.put(
        f"/update-post/{group_id}", json={"mediaUrls": [files.url("/red.png")]}
    )
    assert first.status_code == 200, first.text
    second = tenant.client.put(
        f"/update-post/{group_id}", json={"mediaUrls": [files.url("/blue.png")]}
    )
    assert second.status_code == 200, second.text
    assert second.json()["postGroup"]["status"] == "scheduled"
    assert second.json()["media"][0]["url"] == files.url("/blue.png")
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert [m["sourceFileName"] for m in got["media"]] == ["red.png", "blue.png"]
    assert got["status"] == "scheduled"


def test_update_post_media_beyond_the_platform_rule_attaches_nothing(
    server: LiveServer, tenant: Tenant, files: FileServer
) -> None:
    """The sandbox takes four images, like Bluesky: a fifth is refused after the fetch, and the
    fetched file does not stay."""
    group_id = create_post(tenant, status="draft")
    urls = [files.url("/red.png")] * 4
    assert (
        tenant.client.put(f"/update-post/{group_id}", json={"mediaUrls": urls}).status_code == 200
    )
    before = _stored_files(server)
    response = tenant.client.put(
        f"/update-post/{group_id}", json={"mediaUrls": [files.url("/blue.png")]}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "MEDIA_NOT_ACCEPTED"
    assert len(tenant.client.get(f"/get-post/{group_id}").json()["media"]) == 4
    assert _stored_files(server) == before


def test_update_post_on_a_published_post_fetches_nothing(
    server: LiveServer, tenant: Tenant, files: FileServer
) -> None:
    from support import error_body, force_target_states

    group_id = create_post(tenant, scheduledTime=iso_in(days=1))
    force_target_states(server, group_id, ["published"], sent=True)
    response = tenant.client.put(
        f"/update-post/{group_id}", json={"mediaUrls": [files.url("/red.png")]}
    )
    assert response.status_code == 400
    assert response.json() == error_body(
        "Cannot update published or failed posts", "POST_NOT_EDITABLE"
    )
    assert files.requests == []
