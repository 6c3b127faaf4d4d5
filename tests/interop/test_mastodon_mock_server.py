"""Facts about mastodon-mock 0.6.1 that the Mastodon connector relies on, checked with raw httpx.

Each test names one fact, including where the mock differs from real Mastodon (wording, the
X-RateLimit-Reset format, synchronous media), so a connector test knows what the mock can prove."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from interop_support import MastodonMock, png_bytes


def _auth(server: MastodonMock) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.access_token}"}


@pytest.fixture
def mastodon(mastodon_mock: MastodonMock) -> Iterator[httpx.Client]:
    """A client for mastodon-mock, authenticated as alice."""
    with httpx.Client(base_url=mastodon_mock.url, headers=_auth(mastodon_mock), timeout=30) as c:
        yield c


def test_mastodon_verify_credentials_with_the_dev_user_token(
    mastodon_mock: MastodonMock, mastodon: httpx.Client
) -> None:
    response = mastodon.get("/api/v1/accounts/verify_credentials")

    assert response.status_code == 200
    account = response.json()
    assert (account["id"], account["username"]) == (mastodon_mock.account_id, "alice")
    port = mastodon_mock.url.rsplit(":", 1)[1]
    assert account["url"] == f"http://localhost:{port}/@alice"


def test_mastodon_bad_token_is_401_with_mock_wording(mastodon_mock: MastodonMock) -> None:
    """Real Mastodon says "The access token is invalid"; match on the status, not the text."""
    response = httpx.get(
        f"{mastodon_mock.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": "Bearer not-a-token"},
    )

    assert response.status_code == 401
    assert response.json() == {"error": "This method requires an authenticated user"}


def test_mastodon_same_idempotency_key_returns_the_same_status(
    mastodon_mock: MastodonMock, mastodon: httpx.Client
) -> None:
    """The second call with the key returns the first status (its text, not the new one)."""
    key = str(uuid.uuid4())

    first = mastodon.post(
        "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": key}
    )
    again = mastodon.post(
        "/api/v1/statuses", json={"status": "twice?"}, headers={"Idempotency-Key": key}
    )
    other = mastodon.post(
        "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": str(uuid.uuid4())}
    )

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["content"] == "<p>once</p>"
    assert other.json()["id"] != first.json()["id"]
    port = mastodon_mock.url.rsplit(":", 1)[1]
    assert first.json()["url"] == f"http://localhost:{port}/@alice/{first.json()['id']}"


def test_mastodon_text_over_500_characters_is_422(mastodon: httpx.Client) -> None:
    response = mastodon.post("/api/v1/statuses", json={"status": "x" * 501})

    assert response.status_code == 422
    assert response.json() == {
        "error": "Validation failed: Text is too long (maximum is 500 characters)"
    }


def test_mastodon_media_upload_is_200_at_once_then_status_with_media_ids(
    mastodon: httpx.Client,
) -> None:
    """The mock never answers 202 (still processing): polling must be tested elsewhere."""
    uploaded = mastodon.post(
        "/api/v2/media",
        files={"file": ("pic.png", png_bytes(4, 3), "image/png")},
        data={"description": "a red rectangle"},
    )
    assert uploaded.status_code == 200
    media = uploaded.json()
    assert media["type"] == "image"
    assert media["url"] is not None
    assert media["description"] == "a red rectangle"

    status = mastodon.post(
        "/api/v1/statuses", json={"status": "with a picture", "media_ids": [media["id"]]}
    )

    assert status.status_code == 200
    attachments = status.json()["media_attachments"]
    assert [(a["id"], a["description"]) for a in attachments] == [(media["id"], "a red rectangle")]


def test_mastodon_in_reply_to_id_threads_and_context_lists_them(mastodon: httpx.Client) -> None:
    root = mastodon.post("/api/v1/statuses", json={"status": "1/3"}).json()
    second = mastodon.post(
        "/api/v1/statuses",
        json={"status": "2/3", "in_reply_to_id": root["id"], "visibility": "unlisted"},
    ).json()
    third = mastodon.post(
        "/api/v1/statuses",
        json={"status": "3/3", "in_reply_to_id": second["id"], "visibility": "unlisted"},
    ).json()

    assert (second["in_reply_to_id"], second["visibility"]) == (root["id"], "unlisted")
    down = mastodon.get(f"/api/v1/statuses/{root['id']}/context").json()
    up = mastodon.get(f"/api/v1/statuses/{third['id']}/context").json()
    assert [s["id"] for s in down["descendants"]] == [second["id"], third["id"]]
    assert [s["id"] for s in up["ancestors"]] == [root["id"], second["id"]]


def test_mastodon_ratelimit_fault_is_429_with_epoch_seconds_reset(
    mastodon_faults: MastodonMock, mastodon: httpx.Client
) -> None:
    """The mock's X-RateLimit-Reset is Unix epoch seconds; real Mastodon sends ISO 8601
    (e.g. 2026-11-29T19:10:00.000Z), so a connector parses both. Retry-After is 300."""
    mastodon_faults.add_fault(
        {"methods": ["POST"], "path": "/api/v1/statuses"}, {"type": "ratelimit"}, count=1
    )

    limited = mastodon.post("/api/v1/statuses", json={"status": "limited"})
    after = mastodon.post("/api/v1/statuses", json={"status": "after the fault"})

    assert limited.status_code == 429
    assert limited.json() == {"error": "Too many requests"}
    assert limited.headers["X-RateLimit-Limit"] == "300"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["Retry-After"] == "300"
    reset = limited.headers["X-RateLimit-Reset"]
    assert reset.isdigit()
    assert 290 <= int(reset) - datetime.now(UTC).timestamp() <= 300
    assert after.status_code == 200
