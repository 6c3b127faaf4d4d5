"""Facts about @atproto/pds 0.5.35 that the Bluesky connector relies on, checked with raw httpx.

Each test names one fact; when a version bump changes it, the failing test says which connector
assumption to revisit. The PDS has no AppView: only com.atproto.* answers."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from interop_support import BlueskyAccount, BlueskyPds, new_tid, png_bytes

POST = "app.bsky.feed.post"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _post(text: str, **fields: Any) -> dict[str, Any]:
    return {"$type": POST, "text": text, "createdAt": _now(), **fields}


def _jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def _log_in(client: httpx.Client, account: BlueskyAccount) -> None:
    session = client.post(
        "/com.atproto.server.createSession",
        json={"identifier": account.handle, "password": account.app_password},
    )
    session.raise_for_status()
    client.headers["Authorization"] = f"Bearer {session.json()['accessJwt']}"


@pytest.fixture(scope="module")
def alice(bluesky_pds: BlueskyPds) -> Iterator[httpx.Client]:
    """An XRPC client logged in as alice.test with her app password."""
    with httpx.Client(base_url=f"{bluesky_pds.pds_url}/xrpc", timeout=30) as client:
        _log_in(client, bluesky_pds.account)
        yield client


def _create(
    client: httpx.Client, did: str, record: dict[str, Any], rkey: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"repo": did, "collection": POST, "record": record}
    if rkey is not None:
        body["rkey"] = rkey
    return client.post("/com.atproto.repo.createRecord", json=body)


def _get(client: httpx.Client, did: str, rkey: str) -> httpx.Response:
    return client.get(
        "/com.atproto.repo.getRecord", params={"repo": did, "collection": POST, "rkey": rkey}
    )


def test_pds_app_password_session_has_app_pass_scope_and_two_hour_access(
    bluesky_pds: BlueskyPds,
) -> None:
    """createSession takes the app password; the access JWT has scope com.atproto.appPass and
    lives 7,200 s, the refresh JWT 90 days."""
    response = httpx.post(
        f"{bluesky_pds.pds_url}/xrpc/com.atproto.server.createSession",
        json={"identifier": bluesky_pds.handle, "password": bluesky_pds.app_password},
    )

    assert response.status_code == 200
    session = response.json()
    assert (session["did"], session["handle"]) == (bluesky_pds.did, "alice.test")
    assert bluesky_pds.did.startswith("did:plc:")
    access, refresh = _jwt_claims(session["accessJwt"]), _jwt_claims(session["refreshJwt"])
    assert access["scope"] == "com.atproto.appPass"
    assert access["exp"] - access["iat"] == 7200
    assert refresh["scope"] == "com.atproto.refresh"
    assert refresh["exp"] - refresh["iat"] == 90 * 24 * 3600


def test_pds_wrong_password_is_401_and_every_login_takes_350_ms(bluesky_pds: BlueskyPds) -> None:
    """createSession answers no sooner than 350 ms (timing-attack padding), right password or
    wrong: one more reason to keep sessions rather than log in per post."""
    started = time.monotonic()
    response = httpx.post(
        f"{bluesky_pds.pds_url}/xrpc/com.atproto.server.createSession",
        json={"identifier": bluesky_pds.handle, "password": "not-the-password"},
    )

    assert time.monotonic() - started >= 0.34
    assert response.status_code == 401
    assert response.json() == {
        "error": "AuthenticationRequired",
        "message": "Invalid identifier or password",
    }


def test_pds_unverifiable_token_is_400_invalid_token(bluesky_pds: BlueskyPds) -> None:
    response = httpx.post(
        f"{bluesky_pds.pds_url}/xrpc/com.atproto.repo.createRecord",
        json={"repo": bluesky_pds.did, "collection": POST, "record": _post("x")},
        headers={"Authorization": "Bearer not-a-jwt"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidToken"


def test_pds_get_session_works_but_app_bsky_reads_are_502_without_an_app_view(
    bluesky_pds: BlueskyPds, alice: httpx.Client
) -> None:
    """Verify an account with com.atproto.server.getSession: app.bsky.* (getProfile, feeds,
    getPostThread) needs an AppView, which the test PDS does not have."""
    session = alice.get("/com.atproto.server.getSession")
    profile = alice.get("/app.bsky.actor.getProfile", params={"actor": bluesky_pds.did})

    assert session.status_code == 200
    assert (session.json()["did"], session.json()["handle"]) == (bluesky_pds.did, "alice.test")
    assert profile.status_code == 502
    assert profile.json()["error"] == "UpstreamFailure"


def test_pds_create_record_at_client_tid_rkey_then_get_record_returns_it(
    bluesky_pds: BlueskyPds, alice: httpx.Client
) -> None:
    """The client chooses the record key (a TID); the URI ends with it and getRecord finds it."""
    rkey = new_tid()

    created = _create(alice, bluesky_pds.did, _post("hello from herald"), rkey)

    assert created.status_code == 200
    body = created.json()
    assert body["uri"] == f"at://{bluesky_pds.did}/{POST}/{rkey}"
    assert body["validationStatus"] == "valid"
    fetched = _get(alice, bluesky_pds.did, rkey)
    assert fetched.status_code == 200
    assert fetched.json()["cid"] == body["cid"]
    assert fetched.json()["value"]["text"] == "hello from herald"


def test_pds_repeated_rkey_is_500_internal_server_error_and_keeps_the_first_record(
    bluesky_pds: BlueskyPds, alice: httpx.Client
) -> None:
    """Not a clean 409: a retry must ask getRecord whether the first attempt landed."""
    rkey = new_tid()
    first = _create(alice, bluesky_pds.did, _post("first attempt"), rkey)

    second = _create(alice, bluesky_pds.did, _post("second attempt"), rkey)

    assert first.status_code == 200
    assert second.status_code == 500
    assert second.json() == {"error": "InternalServerError", "message": "Internal Server Error"}
    assert _get(alice, bluesky_pds.did, rkey).json()["value"]["text"] == "first attempt"


def test_pds_get_record_of_a_missing_rkey_is_400_record_not_found(
    bluesky_pds: BlueskyPds, alice: httpx.Client
) -> None:
    """Not a 404: "not published yet" is a 400 with error RecordNotFound."""
    response = _get(alice, bluesky_pds.did, new_tid())

    assert response.status_code == 400
    assert response.json()["error"] == "RecordNotFound"


def test_pds_post_rkey_must_be_a_tid(bluesky_pds: BlueskyPds, alice: httpx.Client) -> None:
    response = _create(alice, bluesky_pds.did, _post("x"), rkey="not-a-tid")

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"
    assert "Invalid TID string" in response.json()["message"]


def test_pds_upload_blob_then_images_embed_keeps_alt_text_and_aspect_ratio(
    bluesky_pds: BlueskyPds, alice: httpx.Client
) -> None:
    image = png_bytes(4, 3)
    uploaded = alice.post(
        "/com.atproto.repo.uploadBlob", content=image, headers={"Content-Type": "image/png"}
    )
    assert uploaded.status_code == 200
    blob = uploaded.json()["blob"]
    assert blob["$type"] == "blob"
    assert (blob["mimeType"], blob["size"]) == ("image/png", len(image))
    assert blob["ref"]["$link"].startswith("bafkrei")
    embed = {
        "$type": "app.bsky.embed.images",
        "images": [
            {"image": blob, "alt": "a red rectangle", "aspectRatio": {"width": 4, "height": 3}}
        ],
    }
    rkey = new_tid()

    created = _create(alice, bluesky_pds.did, _post("with a picture", embed=embed), rkey)

    assert created.status_code == 200
    stored = _get(alice, bluesky_pds.did, rkey).json()["value"]["embed"]
    assert stored["images"][0]["alt"] == "a red rectangle"
    assert stored["images"][0]["aspectRatio"] == {"width": 4, "height": 3}
    assert stored["images"][0]["image"]["ref"] == blob["ref"]


def test_pds_images_embed_takes_at_most_four(bluesky_pds: BlueskyPds, alice: httpx.Client) -> None:
    blob = alice.post(
        "/com.atproto.repo.uploadBlob",
        content=png_bytes(2, 2),
        headers={"Content-Type": "image/png"},
    ).json()["blob"]
    embed = {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": ""}] * 5}

    response = _create(alice, bluesky_pds.did, _post("five", embed=embed))

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"
    assert "array too big (maximum 4, got 5)" in response.json()["message"]


def test_pds_blob_over_5_mib_is_413_payload_too_large(alice: httpx.Client) -> None:
    """The PDS's default blobUploadLimit (5 MiB); bsky.social's own limit differs."""
    response = alice.post(
        "/com.atproto.repo.uploadBlob",
        content=b"\0" * (5 * 1024 * 1024 + 1),
        headers={"Content-Type": "image/jpeg"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"


def test_pds_thread_reply_carries_root_and_parent_strong_refs(
    bluesky_pds: BlueskyPds, alice: httpx.Client
) -> None:
    root = _create(alice, bluesky_pds.did, _post("1/3")).json()
    root_ref = {"uri": root["uri"], "cid": root["cid"]}
    second = _create(
        alice, bluesky_pds.did, _post("2/3", reply={"root": root_ref, "parent": root_ref})
    ).json()
    second_ref = {"uri": second["uri"], "cid": second["cid"]}
    rkey = new_tid()

    third = _create(
        alice, bluesky_pds.did, _post("3/3", reply={"root": root_ref, "parent": second_ref}), rkey
    )

    assert third.status_code == 200
    assert _get(alice, bluesky_pds.did, rkey).json()["value"]["reply"] == {
        "root": root_ref,
        "parent": second_ref,
    }


def test_pds_mention_facet_takes_the_did_from_resolve_handle(
    bluesky_pds: BlueskyPds, bluesky_bob: BlueskyAccount, alice: httpx.Client
) -> None:
    """Handles under `.test` resolve on the PDS itself; facet offsets are UTF-8 bytes."""
    resolved = alice.get("/com.atproto.identity.resolveHandle", params={"handle": "bob.test"})
    assert resolved.json() == {"did": bluesky_bob.did}
    text = "héllo @bob.test"
    start = len("héllo ".encode())
    facet = {
        "index": {"byteStart": start, "byteEnd": len(text.encode())},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": bluesky_bob.did}],
    }
    rkey = new_tid()

    created = _create(alice, bluesky_pds.did, _post(text, facets=[facet]), rkey)

    assert created.status_code == 200
    assert _get(alice, bluesky_pds.did, rkey).json()["value"]["facets"] == [facet]


def test_pds_accepts_300_graphemes(bluesky_pds: BlueskyPds, alice: httpx.Client) -> None:
    response = _create(alice, bluesky_pds.did, _post("é" * 300))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("é" * 301, "grapheme too big (maximum 300, got 301)"),
        ("👨‍👩‍👧" * 300, "string too big (maximum 3000, got 5400)"),
    ],
    ids=["301-graphemes", "3001-plus-bytes"],
)
def test_pds_text_over_300_graphemes_or_3000_bytes_is_400_invalid_request(
    bluesky_pds: BlueskyPds, alice: httpx.Client, text: str, message: str
) -> None:
    response = _create(alice, bluesky_pds.did, _post(text))

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"
    assert message in response.json()["message"]


def test_pds_rate_limit_is_429_with_epoch_reset_and_policy_headers(
    bluesky_pds_rate_limited: BlueskyPds,
) -> None:
    """With rate limits on, createSession allows 30 attempts per 5 minutes per identifier and IP
    (failed ones count too), then 429 RateLimitExceeded; RateLimit-Reset is Unix epoch seconds.
    """
    pds = bluesky_pds_rate_limited
    login = {"identifier": "nobody.test", "password": "wrong"}
    with httpx.Client(base_url=f"{pds.pds_url}/xrpc", timeout=30) as client:
        # Concurrently: each login answer is held back to 350 ms anyway.
        with ThreadPoolExecutor(max_workers=31) as pool:
            answers = list(
                pool.map(
                    lambda _: client.post("/com.atproto.server.createSession", json=login),
                    range(31),
                )
            )
        other = client.post(
            "/com.atproto.server.createSession",
            json={"identifier": pds.handle, "password": pds.app_password},
        )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401] * 30 + [429]
    allowed = next(answer for answer in answers if answer.status_code == 401)
    assert allowed.headers["RateLimit-Policy"] == "30;w=300"
    limited = next(answer for answer in answers if answer.status_code == 429)
    assert limited.json()["error"] == "RateLimitExceeded"
    assert limited.headers["RateLimit-Limit"] == "30"
    assert limited.headers["RateLimit-Remaining"] == "0"
    reset = int(limited.headers["RateLimit-Reset"])
    assert 0 < reset - datetime.now(UTC).timestamp() <= 300
    assert other.status_code == 200
