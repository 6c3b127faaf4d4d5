"""The Bluesky simulator's sessions, identity, blobs, rate limits, faults and control API, over
HTTP (post records: test_bluesky_sim_records.py)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from bluesky_support import (
    ALICE,
    CREATE_RECORD,
    POST,
    UPLOAD_BLOB,
    BlueskyControl,
    create_post,
    png,
    post_record,
    upload_blob,
    xrpc_error,
)
from sim_support import CLIENT_TIMEOUT_S


def claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


# --- sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", [ALICE.handle, "@Alice.Test", ALICE.did])
def test_create_session_by_handle_or_did(bluesky_sim: BlueskyControl, identifier: str) -> None:
    body = {"identifier": identifier, "password": ALICE.app_password}
    response = bluesky_sim.post("com.atproto.server.createSession", json=body)
    assert response.status_code == 200
    session = response.json()
    assert (session["did"], session["handle"], session["active"]) == (ALICE.did, ALICE.handle, True)
    access, refresh = claims(session["accessJwt"]), claims(session["refreshJwt"])
    assert (access["scope"], access["exp"] - access["iat"]) == ("com.atproto.appPass", 7200)
    assert (refresh["scope"], refresh["exp"] - refresh["iat"]) == ("com.atproto.refresh", 7776000)


@pytest.mark.parametrize(
    "body",
    [
        {"identifier": ALICE.handle, "password": "wrong"},
        {"identifier": "nobody.test", "password": ALICE.app_password},
    ],
)
def test_create_session_refuses_wrong_credentials(
    bluesky_sim: BlueskyControl, body: dict[str, str]
) -> None:
    response = bluesky_sim.post("com.atproto.server.createSession", json=body)
    assert xrpc_error(response) == (401, "AuthenticationRequired", "Invalid identifier or password")
    assert response.headers["RateLimit-Policy"] == "30;w=300"


def test_create_session_is_limited_per_identifier(bluesky_sim: BlueskyControl) -> None:
    bluesky_sim.configure(session_limit=3)
    login = {"identifier": ALICE.handle, "password": "wrong"}
    answers = [bluesky_sim.post("com.atproto.server.createSession", json=login) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    assert xrpc_error(answers[-1])[1] == "RateLimitExceeded"
    assert answers[-1].headers["RateLimit-Remaining"] == "0"
    assert 0 < int(answers[-1].headers["RateLimit-Reset"]) - time.time() <= 301
    other = bluesky_sim.post(
        "com.atproto.server.createSession", json=login | {"identifier": "bob.test"}
    )
    assert other.status_code == 401  # another identifier has its own window


def test_tokens_are_refused_by_name(bluesky_sim: BlueskyControl) -> None:
    record = {"repo": ALICE.did, "collection": POST, "record": post_record()}
    assert xrpc_error(bluesky_sim.post(CREATE_RECORD, json=record)) == (
        401,
        "AuthenticationRequired",
        "Authentication Required",
    )
    assert xrpc_error(bluesky_sim.post(CREATE_RECORD, "not-a-jwt", json=record))[:2] == (
        400,
        "InvalidToken",
    )
    body = {"identifier": ALICE.handle, "password": ALICE.app_password}
    session = bluesky_sim.post("com.atproto.server.createSession", json=body).json()
    wrong_scope = bluesky_sim.post(CREATE_RECORD, session["refreshJwt"], json=record)
    assert xrpc_error(wrong_scope) == (400, "InvalidToken", "Bad token scope")
    assert bluesky_sim.expire_tokens() == {"access": 1, "refresh": 0}
    assert xrpc_error(bluesky_sim.post(CREATE_RECORD, session["accessJwt"], json=record)) == (
        400,
        "ExpiredToken",
        "Token has expired",
    )
    bluesky_sim.configure(token_error_status=401)
    assert xrpc_error(bluesky_sim.post(CREATE_RECORD, session["accessJwt"], json=record))[:2] == (
        401,
        "ExpiredToken",
    )


def test_refresh_session_rotates_the_pair(bluesky_sim: BlueskyControl) -> None:
    body = {"identifier": ALICE.handle, "password": ALICE.app_password}
    first = bluesky_sim.post("com.atproto.server.createSession", json=body).json()
    bluesky_sim.expire_tokens()
    renewed = bluesky_sim.post("com.atproto.server.refreshSession", first["refreshJwt"])
    assert renewed.status_code == 200
    assert create_post(bluesky_sim, renewed.json()["accessJwt"], post_record()).status_code == 200
    again = bluesky_sim.post("com.atproto.server.refreshSession", first["refreshJwt"])
    assert xrpc_error(again) == (400, "InvalidToken", "Token has been revoked")
    assert xrpc_error(
        bluesky_sim.post("com.atproto.server.refreshSession", renewed.json()["accessJwt"])
    )[2] == ("Bad token scope")
    bluesky_sim.expire_tokens(refresh=True)
    stale = bluesky_sim.post("com.atproto.server.refreshSession", renewed.json()["refreshJwt"])
    assert xrpc_error(stale)[:2] == (400, "ExpiredToken")
    assert bluesky_sim.stats()["sessions"] == {"created": 1, "refreshed": 1}


# --- identity ---------------------------------------------------------------------------------


def test_describe_repo_and_resolve_handle(bluesky_sim: BlueskyControl, bluesky_token: str) -> None:
    create_post(bluesky_sim, bluesky_token, post_record())
    described = bluesky_sim.get("com.atproto.repo.describeRepo", repo=ALICE.handle).json()
    assert (described["did"], described["handle"], described["collections"]) == (
        ALICE.did,
        ALICE.handle,
        [POST],
    )
    assert described["didDoc"]["service"][0]["serviceEndpoint"] == bluesky_sim.base_url
    assert bluesky_sim.get("com.atproto.identity.resolveHandle", handle="Alice.Test").json() == {
        "did": ALICE.did
    }
    unknown = bluesky_sim.get("com.atproto.identity.resolveHandle", handle="nobody.test")
    assert xrpc_error(unknown) == (400, "InvalidRequest", "Unable to resolve handle")
    assert xrpc_error(bluesky_sim.get("com.atproto.repo.describeRepo", repo="nobody.test"))[2] == (
        "Could not find repo: nobody.test"
    )


def test_get_profile_needs_an_app_view(bluesky_sim: BlueskyControl, bluesky_token: str) -> None:
    bare = bluesky_sim.get("app.bsky.actor.getProfile", bluesky_token, actor=ALICE.did)
    assert xrpc_error(bare)[:2] == (502, "UpstreamFailure")
    bluesky_sim.configure(appview=True)
    profile = bluesky_sim.get("app.bsky.actor.getProfile", bluesky_token, actor=ALICE.handle).json()
    assert (profile["did"], profile["displayName"]) == (ALICE.did, ALICE.display_name)


# --- blobs ------------------------------------------------------------------------------------


def test_upload_blob_returns_a_content_addressed_ref(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    image = png(4, 3)
    blob = upload_blob(bluesky_sim, bluesky_token, image, "image/png")
    assert blob["$type"] == "blob"
    assert (blob["mimeType"], blob["size"]) == ("image/png", len(image))
    assert blob["ref"]["$link"].startswith("bafkrei")
    assert upload_blob(bluesky_sim, bluesky_token, image, "image/png")["ref"] == blob["ref"]
    assert upload_blob(bluesky_sim, bluesky_token, image + b"x", "image/png")["ref"] != blob["ref"]


def test_upload_blob_over_the_limit_is_413(bluesky_sim: BlueskyControl, bluesky_token: str) -> None:
    bluesky_sim.configure(blob_limit_bytes=1000)
    response = bluesky_sim.post(
        UPLOAD_BLOB, bluesky_token, content=bytes(1001), headers={"Content-Type": "image/jpeg"}
    )
    assert xrpc_error(response) == (413, "PayloadTooLarge", "request entity too large")
    assert bluesky_sim.blobs() == []
    assert bluesky_sim.post(UPLOAD_BLOB, content=b"x").status_code == 401


# --- rate limits, faults, control -------------------------------------------------------------


def test_rate_limit_headers_and_429(bluesky_sim: BlueskyControl) -> None:
    bluesky_sim.configure(rate_limit=3, rate_window_s=60)
    answers = [
        bluesky_sim.get("com.atproto.identity.resolveHandle", handle=ALICE.handle) for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["RateLimit-Policy"] == "3;w=60"
    assert xrpc_error(answers[-1])[:2] == (429, "RateLimitExceeded")
    assert bluesky_sim.stats()["rate_limited"] == 1


def test_scripted_faults(bluesky_sim: BlueskyControl, bluesky_token: str) -> None:
    bluesky_sim.configure(retry_after_s=9)
    bluesky_sim.script("rate_limit", "unavailable", "rejected", "error_after_create", "ok")
    limited = create_post(bluesky_sim, bluesky_token, post_record("a"))
    assert xrpc_error(limited)[:2] == (429, "RateLimitExceeded")
    assert 7 <= int(limited.headers["RateLimit-Reset"]) - time.time() <= 9  # epoch seconds
    assert xrpc_error(create_post(bluesky_sim, bluesky_token, post_record("b")))[:2] == (
        503,
        "NotEnoughResources",
    )
    assert (
        xrpc_error(create_post(bluesky_sim, bluesky_token, post_record("c")))[2]
        == "rejected by fault injection"
    )
    assert xrpc_error(create_post(bluesky_sim, bluesky_token, post_record("d")))[:2] == (
        500,
        "InternalServerError",
    )
    assert create_post(bluesky_sim, bluesky_token, post_record("e")).status_code == 200
    assert [r["value"]["text"] for r in bluesky_sim.records()] == ["d", "e"]
    assert bluesky_sim.stats()["faults"]["error_after_create"] == 1


def test_a_held_fault_stops_holding_when_the_client_hangs_up(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    bluesky_sim.script("timeout", "lost_response")
    body = {"repo": ALICE.did, "collection": POST}
    for text in ("held", "lost"):
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{bluesky_sim.base_url}/xrpc/{CREATE_RECORD}",
                json={**body, "record": post_record(text)},
                headers={"Authorization": f"Bearer {bluesky_token}"},
                timeout=CLIENT_TIMEOUT_S,
            )
        assert time.monotonic() - started < CLIENT_TIMEOUT_S + 1
    assert [r["value"]["text"] for r in bluesky_sim.records()] == ["lost"]


def test_unknown_methods_and_wrong_verbs(bluesky_sim: BlueskyControl) -> None:
    assert xrpc_error(bluesky_sim.get("app.bsky.feed.getTimeline"))[:2] == (
        501,
        "MethodNotImplemented",
    )
    assert (
        xrpc_error(bluesky_sim.get(CREATE_RECORD))[2] == "Incorrect HTTP method (GET) expected POST"
    )
    assert bluesky_sim.get("_health").json() == {"version": "herald-sim"}


def test_config_merges_and_refuses_nonsense(bluesky_sim: BlueskyControl) -> None:
    config = bluesky_sim.configure(appview=True, faults={"timeout": 0.25}, rate_limit=None)
    assert (config["appview"], config["faults"]["timeout"]) == (True, 0.25)
    assert config["accounts"][0]["handle"] == ALICE.handle
    for bad in ({"appview": 1}, {"blob_limit_bytes": 0}, {"token_error_status": 403}, {"x": 1}):
        response = bluesky_sim.http.post("/_sim/config", json=bad)
        assert response.status_code == 422, bad
    assert bluesky_sim.http.post("/_sim/script", json={"faults": ["meteor"]}).status_code == 422


def test_accounts_are_added_and_reset_restores_the_configured_ones(
    bluesky_sim: BlueskyControl,
) -> None:
    bob = bluesky_sim.add_account(handle="Bob.Test", appPassword="bbbb-cccc", displayName="Bob")
    assert (bob["handle"], bob["did"][:8]) == ("bob.test", "did:plc:")
    assert bluesky_sim.login("bob.test", "bbbb-cccc")
    duplicate = bluesky_sim.http.post(
        "/_sim/accounts", json={"handle": "bob.test", "appPassword": "x"}
    )
    assert duplicate.status_code == 422
    assert bluesky_sim.http.post("/_sim/accounts", json={"handle": "no_dots"}).status_code == 422
    bluesky_sim.reset()
    handles = [a["handle"] for a in bluesky_sim.http.get("/_sim/accounts").json()["accounts"]]
    assert handles == [ALICE.handle]
