"""The Bluesky simulator's sessions, identity, blobs, rate limits, faults and control API, over
HTTP (post records: test_bluesky_sim_records.py)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
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
    running_sim,
    upload_blob,
    xrpc_error,
)
from sim_support import CLIENT_TIMEOUT_S


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with running_sim() as base_url:
        yield base_url


@pytest.fixture
def sim(sim_url: str) -> Iterator[BlueskyControl]:
    control = BlueskyControl(sim_url)
    control.reset()
    yield control
    control.close()


@pytest.fixture
def token(sim: BlueskyControl) -> str:
    return sim.login()


def claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


# --- sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", [ALICE.handle, "@Alice.Test", ALICE.did])
def test_create_session_by_handle_or_did(sim: BlueskyControl, identifier: str) -> None:
    body = {"identifier": identifier, "password": ALICE.app_password}
    response = sim.post("com.atproto.server.createSession", json=body)
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
    sim: BlueskyControl, body: dict[str, str]
) -> None:
    response = sim.post("com.atproto.server.createSession", json=body)
    assert xrpc_error(response) == (401, "AuthenticationRequired", "Invalid identifier or password")
    assert response.headers["RateLimit-Policy"] == "30;w=300"


def test_create_session_is_limited_per_identifier(sim: BlueskyControl) -> None:
    sim.configure(session_limit=3)
    login = {"identifier": ALICE.handle, "password": "wrong"}
    answers = [sim.post("com.atproto.server.createSession", json=login) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    assert xrpc_error(answers[-1])[1] == "RateLimitExceeded"
    assert answers[-1].headers["RateLimit-Remaining"] == "0"
    assert 0 < int(answers[-1].headers["RateLimit-Reset"]) - time.time() <= 301
    other = sim.post("com.atproto.server.createSession", json=login | {"identifier": "bob.test"})
    assert other.status_code == 401  # another identifier has its own window


def test_tokens_are_refused_by_name(sim: BlueskyControl) -> None:
    record = {"repo": ALICE.did, "collection": POST, "record": post_record()}
    assert xrpc_error(sim.post(CREATE_RECORD, json=record)) == (
        401,
        "AuthenticationRequired",
        "Authentication Required",
    )
    assert xrpc_error(sim.post(CREATE_RECORD, "not-a-jwt", json=record))[:2] == (
        400,
        "InvalidToken",
    )
    body = {"identifier": ALICE.handle, "password": ALICE.app_password}
    session = sim.post("com.atproto.server.createSession", json=body).json()
    wrong_scope = sim.post(CREATE_RECORD, session["refreshJwt"], json=record)
    assert xrpc_error(wrong_scope) == (400, "InvalidToken", "Bad token scope")
    assert sim.expire_tokens() == {"access": 1, "refresh": 0}
    assert xrpc_error(sim.post(CREATE_RECORD, session["accessJwt"], json=record)) == (
        400,
        "ExpiredToken",
        "Token has expired",
    )
    sim.configure(token_error_status=401)
    assert xrpc_error(sim.post(CREATE_RECORD, session["accessJwt"], json=record))[:2] == (
        401,
        "ExpiredToken",
    )


def test_refresh_session_rotates_the_pair(sim: BlueskyControl) -> None:
    body = {"identifier": ALICE.handle, "password": ALICE.app_password}
    first = sim.post("com.atproto.server.createSession", json=body).json()
    sim.expire_tokens()
    renewed = sim.post("com.atproto.server.refreshSession", first["refreshJwt"])
    assert renewed.status_code == 200
    assert create_post(sim, renewed.json()["accessJwt"], post_record()).status_code == 200
    again = sim.post("com.atproto.server.refreshSession", first["refreshJwt"])
    assert xrpc_error(again) == (400, "InvalidToken", "Token has been revoked")
    assert xrpc_error(sim.post("com.atproto.server.refreshSession", renewed.json()["accessJwt"]))[
        2
    ] == ("Bad token scope")
    sim.expire_tokens(refresh=True)
    stale = sim.post("com.atproto.server.refreshSession", renewed.json()["refreshJwt"])
    assert xrpc_error(stale)[:2] == (400, "ExpiredToken")
    assert sim.stats()["sessions"] == {"created": 1, "refreshed": 1}


# --- identity ---------------------------------------------------------------------------------


def test_describe_repo_and_resolve_handle(sim: BlueskyControl, token: str) -> None:
    create_post(sim, token, post_record())
    described = sim.get("com.atproto.repo.describeRepo", repo=ALICE.handle).json()
    assert (described["did"], described["handle"], described["collections"]) == (
        ALICE.did,
        ALICE.handle,
        [POST],
    )
    assert described["didDoc"]["service"][0]["serviceEndpoint"] == sim.base_url
    assert sim.get("com.atproto.identity.resolveHandle", handle="Alice.Test").json() == {
        "did": ALICE.did
    }
    unknown = sim.get("com.atproto.identity.resolveHandle", handle="nobody.test")
    assert xrpc_error(unknown) == (400, "InvalidRequest", "Unable to resolve handle")
    assert xrpc_error(sim.get("com.atproto.repo.describeRepo", repo="nobody.test"))[2] == (
        "Could not find repo: nobody.test"
    )


def test_get_profile_needs_an_app_view(sim: BlueskyControl, token: str) -> None:
    bare = sim.get("app.bsky.actor.getProfile", token, actor=ALICE.did)
    assert xrpc_error(bare)[:2] == (502, "UpstreamFailure")
    sim.configure(appview=True)
    profile = sim.get("app.bsky.actor.getProfile", token, actor=ALICE.handle).json()
    assert (profile["did"], profile["displayName"]) == (ALICE.did, ALICE.display_name)


# --- blobs ------------------------------------------------------------------------------------


def test_upload_blob_returns_a_content_addressed_ref(sim: BlueskyControl, token: str) -> None:
    image = png(4, 3)
    blob = upload_blob(sim, token, image, "image/png")
    assert blob["$type"] == "blob"
    assert (blob["mimeType"], blob["size"]) == ("image/png", len(image))
    assert blob["ref"]["$link"].startswith("bafkrei")
    assert upload_blob(sim, token, image, "image/png")["ref"] == blob["ref"]
    assert upload_blob(sim, token, image + b"x", "image/png")["ref"] != blob["ref"]


def test_upload_blob_over_the_limit_is_413(sim: BlueskyControl, token: str) -> None:
    sim.configure(blob_limit_bytes=1000)
    response = sim.post(
        UPLOAD_BLOB, token, content=bytes(1001), headers={"Content-Type": "image/jpeg"}
    )
    assert xrpc_error(response) == (413, "PayloadTooLarge", "request entity too large")
    assert sim.blobs() == []
    assert sim.post(UPLOAD_BLOB, content=b"x").status_code == 401


# --- rate limits, faults, control -------------------------------------------------------------


def test_rate_limit_headers_and_429(sim: BlueskyControl) -> None:
    sim.configure(rate_limit=3, rate_window_s=60)
    answers = [sim.get("com.atproto.identity.resolveHandle", handle=ALICE.handle) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["RateLimit-Policy"] == "3;w=60"
    assert xrpc_error(answers[-1])[:2] == (429, "RateLimitExceeded")
    assert sim.stats()["rate_limited"] == 1


def test_scripted_faults(sim: BlueskyControl, token: str) -> None:
    sim.configure(retry_after_s=9)
    sim.script("rate_limit", "unavailable", "rejected", "error_after_create", "ok")
    limited = create_post(sim, token, post_record("a"))
    assert xrpc_error(limited)[:2] == (429, "RateLimitExceeded")
    assert 7 <= int(limited.headers["RateLimit-Reset"]) - time.time() <= 9  # epoch seconds
    assert xrpc_error(create_post(sim, token, post_record("b")))[:2] == (503, "NotEnoughResources")
    assert xrpc_error(create_post(sim, token, post_record("c")))[2] == "rejected by fault injection"
    assert xrpc_error(create_post(sim, token, post_record("d")))[:2] == (500, "InternalServerError")
    assert create_post(sim, token, post_record("e")).status_code == 200
    assert [r["value"]["text"] for r in sim.records()] == ["d", "e"]
    assert sim.stats()["faults"]["error_after_create"] == 1


def test_a_held_fault_stops_holding_when_the_client_hangs_up(
    sim: BlueskyControl, token: str
) -> None:
    sim.script("timeout", "lost_response")
    body = {"repo": ALICE.did, "collection": POST}
    for text in ("held", "lost"):
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{sim.base_url}/xrpc/{CREATE_RECORD}",
                json={**body, "record": post_record(text)},
                headers={"Authorization": f"Bearer {token}"},
                timeout=CLIENT_TIMEOUT_S,
            )
        assert time.monotonic() - started < CLIENT_TIMEOUT_S + 1
    assert [r["value"]["text"] for r in sim.records()] == ["lost"]


def test_unknown_methods_and_wrong_verbs(sim: BlueskyControl) -> None:
    assert xrpc_error(sim.get("app.bsky.feed.getTimeline"))[:2] == (501, "MethodNotImplemented")
    assert xrpc_error(sim.get(CREATE_RECORD))[2] == "Incorrect HTTP method (GET) expected POST"
    assert sim.get("_health").json() == {"version": "herald-sim"}


def test_config_merges_and_refuses_nonsense(sim: BlueskyControl) -> None:
    config = sim.configure(appview=True, faults={"timeout": 0.25}, rate_limit=None)
    assert (config["appview"], config["faults"]["timeout"]) == (True, 0.25)
    assert config["accounts"][0]["handle"] == ALICE.handle
    for bad in ({"appview": 1}, {"blob_limit_bytes": 0}, {"token_error_status": 403}, {"x": 1}):
        response = sim.http.post("/_sim/config", json=bad)
        assert response.status_code == 422, bad
    assert sim.http.post("/_sim/script", json={"faults": ["meteor"]}).status_code == 422


def test_accounts_are_added_and_reset_restores_the_configured_ones(sim: BlueskyControl) -> None:
    bob = sim.add_account(handle="Bob.Test", appPassword="bbbb-cccc", displayName="Bob")
    assert (bob["handle"], bob["did"][:8]) == ("bob.test", "did:plc:")
    assert sim.login("bob.test", "bbbb-cccc")
    duplicate = sim.http.post("/_sim/accounts", json={"handle": "bob.test", "appPassword": "x"})
    assert duplicate.status_code == 422
    assert sim.http.post("/_sim/accounts", json={"handle": "no_dots"}).status_code == 422
    sim.reset()
    handles = [a["handle"] for a in sim.http.get("/_sim/accounts").json()["accounts"]]
    assert handles == [ALICE.handle]
