"""The Bluesky simulator's XRPC endpoints, validation rules, faults and control API, over HTTP."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bluesky_support import ALICE, POST, BlueskyControl, png, running_sim
from sim_support import CLIENT_TIMEOUT_S

CREATE = "com.atproto.repo.createRecord"
GET = "com.atproto.repo.getRecord"
UPLOAD = "com.atproto.repo.uploadBlob"
MENTION = "app.bsky.richtext.facet#mention"


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


def post(text: str = "hello", **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"$type": POST, "text": text, "createdAt": now, **fields}


def create(
    sim: BlueskyControl, token: str, record: dict[str, Any], rkey: str | None = None, **body: Any
) -> httpx.Response:
    payload = {"repo": ALICE.did, "collection": POST, "record": record, **body}
    if rkey is not None:
        payload["rkey"] = rkey
    return sim.post(CREATE, token, json=payload)


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"], body["message"]


def upload(sim: BlueskyControl, token: str, data: bytes, content_type: str) -> dict[str, Any]:
    response = sim.post(UPLOAD, token, content=data, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    blob: dict[str, Any] = response.json()["blob"]
    return blob


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
    assert error(response) == (401, "AuthenticationRequired", "Invalid identifier or password")
    assert response.headers["RateLimit-Policy"] == "30;w=300"


def test_create_session_is_limited_per_identifier(sim: BlueskyControl) -> None:
    sim.configure(session_limit=3)
    login = {"identifier": ALICE.handle, "password": "wrong"}
    answers = [sim.post("com.atproto.server.createSession", json=login) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    assert error(answers[-1])[1] == "RateLimitExceeded"
    assert answers[-1].headers["RateLimit-Remaining"] == "0"
    assert 0 < int(answers[-1].headers["RateLimit-Reset"]) - time.time() <= 301
    other = sim.post("com.atproto.server.createSession", json=login | {"identifier": "bob.test"})
    assert other.status_code == 401  # another identifier has its own window


def test_tokens_are_refused_by_name(sim: BlueskyControl) -> None:
    record = {"repo": ALICE.did, "collection": POST, "record": post()}
    assert error(sim.post(CREATE, json=record)) == (
        401,
        "AuthenticationRequired",
        "Authentication Required",
    )
    assert error(sim.post(CREATE, "not-a-jwt", json=record))[:2] == (400, "InvalidToken")
    body = {"identifier": ALICE.handle, "password": ALICE.app_password}
    session = sim.post("com.atproto.server.createSession", json=body).json()
    wrong_scope = sim.post(CREATE, session["refreshJwt"], json=record)
    assert error(wrong_scope) == (400, "InvalidToken", "Bad token scope")
    assert sim.expire_tokens() == {"access": 1, "refresh": 0}
    assert error(sim.post(CREATE, session["accessJwt"], json=record)) == (
        400,
        "ExpiredToken",
        "Token has expired",
    )
    sim.configure(token_error_status=401)
    assert error(sim.post(CREATE, session["accessJwt"], json=record))[:2] == (401, "ExpiredToken")


def test_refresh_session_rotates_the_pair(sim: BlueskyControl) -> None:
    body = {"identifier": ALICE.handle, "password": ALICE.app_password}
    first = sim.post("com.atproto.server.createSession", json=body).json()
    sim.expire_tokens()
    renewed = sim.post("com.atproto.server.refreshSession", first["refreshJwt"])
    assert renewed.status_code == 200
    assert create(sim, renewed.json()["accessJwt"], post()).status_code == 200
    again = sim.post("com.atproto.server.refreshSession", first["refreshJwt"])
    assert error(again) == (400, "InvalidToken", "Token has been revoked")
    assert error(sim.post("com.atproto.server.refreshSession", renewed.json()["accessJwt"]))[2] == (
        "Bad token scope"
    )
    sim.expire_tokens(refresh=True)
    stale = sim.post("com.atproto.server.refreshSession", renewed.json()["refreshJwt"])
    assert error(stale)[:2] == (400, "ExpiredToken")
    assert sim.stats()["sessions"] == {"created": 1, "refreshed": 1}


# --- identity ---------------------------------------------------------------------------------


def test_describe_repo_and_resolve_handle(sim: BlueskyControl, token: str) -> None:
    create(sim, token, post())
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
    assert error(unknown) == (400, "InvalidRequest", "Unable to resolve handle")
    assert error(sim.get("com.atproto.repo.describeRepo", repo="nobody.test"))[2] == (
        "Could not find repo: nobody.test"
    )


def test_get_profile_needs_an_app_view(sim: BlueskyControl, token: str) -> None:
    bare = sim.get("app.bsky.actor.getProfile", token, actor=ALICE.did)
    assert error(bare)[:2] == (502, "UpstreamFailure")
    sim.configure(appview=True)
    profile = sim.get("app.bsky.actor.getProfile", token, actor=ALICE.handle).json()
    assert (profile["did"], profile["displayName"]) == (ALICE.did, ALICE.display_name)


# --- blobs ------------------------------------------------------------------------------------


def test_upload_blob_returns_a_content_addressed_ref(sim: BlueskyControl, token: str) -> None:
    image = png(4, 3)
    blob = upload(sim, token, image, "image/png")
    assert blob["$type"] == "blob"
    assert (blob["mimeType"], blob["size"]) == ("image/png", len(image))
    assert blob["ref"]["$link"].startswith("bafkrei")
    assert upload(sim, token, image, "image/png")["ref"] == blob["ref"]
    assert upload(sim, token, image + b"x", "image/png")["ref"] != blob["ref"]


def test_upload_blob_over_the_limit_is_413(sim: BlueskyControl, token: str) -> None:
    sim.configure(blob_limit_bytes=1000)
    response = sim.post(UPLOAD, token, content=bytes(1001), headers={"Content-Type": "image/jpeg"})
    assert error(response) == (413, "PayloadTooLarge", "request entity too large")
    assert sim.blobs() == []
    assert sim.post(UPLOAD, content=b"x").status_code == 401


# --- createRecord -----------------------------------------------------------------------------


def test_create_record_at_a_client_rkey_then_get_it(sim: BlueskyControl, token: str) -> None:
    created = create(sim, token, post("hi"), "3kabcdefghijk")
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["uri"] == f"at://{ALICE.did}/{POST}/3kabcdefghijk"
    assert body["validationStatus"] == "valid"
    assert body["cid"].startswith("bafyrei")
    fetched = sim.get(GET, repo=ALICE.did, collection=POST, rkey="3kabcdefghijk").json()
    assert (fetched["uri"], fetched["cid"], fetched["value"]["text"]) == (
        body["uri"],
        body["cid"],
        "hi",
    )


def test_a_taken_rkey_is_500_and_keeps_the_first_record(sim: BlueskyControl, token: str) -> None:
    assert create(sim, token, post("first"), "3kabcdefghijk").status_code == 200
    second = create(sim, token, post("second"), "3kabcdefghijk")
    assert error(second) == (500, "InternalServerError", "Internal Server Error")
    assert [r["value"]["text"] for r in sim.records()] == ["first"]
    assert sim.stats()["duplicates"] == 1


def test_without_an_rkey_the_pds_picks_a_tid(sim: BlueskyControl, token: str) -> None:
    uris = [create(sim, token, post(str(n))).json()["uri"] for n in range(3)]
    rkeys = [uri.rsplit("/", 1)[1] for uri in uris]
    assert rkeys == sorted(rkeys)
    assert len(set(rkeys)) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("é" * 301, "grapheme too big (maximum 300, got 301) at $.record.text"),
        ("👨‍👩‍👧" * 300, "string too big (maximum 3000, got 5400) at $.record.text"),
    ],
)
def test_text_limits_in_the_pds_wording(
    sim: BlueskyControl, token: str, text: str, message: str
) -> None:
    assert error(create(sim, token, post(text))) == (
        400,
        "InvalidRequest",
        f"Invalid {POST} record: {message}",
    )
    assert create(sim, token, post("é" * 300)).status_code == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"rkey": "not-a-tid"}, "Invalid TID string"),
        ({"rkey": "kaaaaaaaaaaaa"}, "Invalid TID string"),
        ({"collection": "no spaces"}, "Invalid collection"),
        ({"record": post() | {"$type": "app.bsky.feed.like"}}, "Invalid $type"),
        ({"record": post() | {"createdAt": "yesterday"}}, "must be a valid datetime"),
        ({"record": post() | {"langs": ["en", "fr", "de", "es"]}}, "array too big (maximum 3"),
        ({"record": "text"}, "must be an object"),
        ({"repo": "nobody.test"}, "Could not find repo"),
    ],
)
def test_create_record_refuses_malformed_requests(
    sim: BlueskyControl, token: str, body: dict[str, Any], fragment: str
) -> None:
    payload = {"repo": ALICE.did, "collection": POST, "record": post(), **body}
    status, name, message = error(sim.post(CREATE, token, json=payload))
    assert (status, name) == (400, "InvalidRequest")
    assert fragment in message
    assert sim.records() == []


def test_a_repo_of_another_account_is_not_the_sessions_to_write(
    sim: BlueskyControl, token: str
) -> None:
    bob = sim.add_account(handle="bob.test", appPassword="bbbb")
    payload = {"repo": bob["did"], "collection": POST, "record": post()}
    assert error(sim.post(CREATE, token, json=payload))[:2] == (401, "AuthenticationRequired")


def facet(start: int, end: int, feature: dict[str, Any] | None = None) -> dict[str, Any]:
    feature = feature or {"$type": MENTION, "did": ALICE.did}
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}


@pytest.mark.parametrize(
    ("facets", "fragment"),
    [
        ([facet(3, 3)], "byte range 3..3 is not within the text's 15 bytes"),
        ([facet(7, 16)], "byte range 7..16 is not within"),
        ([facet(0, 2)], "byte range 0..2 splits a character"),
        ([facet(-1, 2)], "must be non-negative integers"),
        ([facet(0, 3, {"$type": "app.bsky.richtext.facet#bold"})], "unknown facet feature"),
        ([facet(0, 3, {"$type": MENTION, "did": "alice"})], "must be a valid did"),
        ([facet(0, 3, {"$type": "app.bsky.richtext.facet#tag", "tag": "x" * 65})], "64"),
        ([{"index": {"byteStart": 0, "byteEnd": 3}, "features": []}], "non-empty array"),
    ],
)
def test_facets_must_fit_the_text_bytes(
    sim: BlueskyControl, token: str, facets: list[dict[str, Any]], fragment: str
) -> None:
    text = "日 @alice.test"  # 15 bytes: 日 is bytes 0-2, the mention 4-15
    status, _, message = error(create(sim, token, post(text, facets=facets)))
    assert status == 400
    assert fragment in message
    assert create(sim, token, post(text, facets=[facet(4, 15)])).status_code == 200


def images(blob: dict[str, Any], count: int) -> dict[str, Any]:
    return {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": ""}] * count}


def test_image_embeds_take_uploaded_blobs_up_to_four(sim: BlueskyControl, token: str) -> None:
    blob = upload(sim, token, png(2, 2), "image/png")
    five = error(create(sim, token, post(embed=images(blob, 5))))
    assert five[:2] == (400, "InvalidRequest")
    assert "array too big (maximum 4, got 5) at $.record.embed.images" in five[2]
    foreign = {**blob, "ref": {"$link": "bafkreinotuploaded"}}
    assert error(create(sim, token, post(embed=images(foreign, 1))))[2] == (
        "Could not find blob: bafkreinotuploaded"
    )
    ratio = images(blob, 1)
    ratio["images"][0] = {**ratio["images"][0], "aspectRatio": {"width": 0, "height": 1}}
    assert "positive integers" in error(create(sim, token, post(embed=ratio)))[2]
    assert create(sim, token, post(embed=images(blob, 4))).status_code == 200


def test_blob_types_must_suit_the_embed(sim: BlueskyControl, token: str) -> None:
    video = upload(sim, token, b"mp4 bytes", "video/mp4")
    image = upload(sim, token, png(2, 2), "image/png")
    assert "must match image/*" in error(create(sim, token, post(embed=images(video, 1))))[2]
    as_video = {"$type": "app.bsky.embed.video", "video": image}
    assert "must match video/mp4" in error(create(sim, token, post(embed=as_video)))[2]
    ok = {"$type": "app.bsky.embed.video", "video": video, "alt": "clip"}
    assert create(sim, token, post(embed=ok)).status_code == 200
    other = {"$type": "app.bsky.embed.external", "external": {}}
    assert "does not take embeds" in error(create(sim, token, post(embed=other)))[2]


def test_replies_must_name_stored_records_by_uri_and_cid(sim: BlueskyControl, token: str) -> None:
    root = create(sim, token, post("root")).json()
    ref = {"uri": root["uri"], "cid": root["cid"]}
    assert create(sim, token, post("reply", reply={"root": ref, "parent": ref})).status_code == 200
    stale = {"uri": root["uri"], "cid": "bafyreiwrong"}
    assert (
        "does not match" in error(create(sim, token, post(reply={"root": ref, "parent": stale})))[2]
    )
    gone = {"uri": f"at://{ALICE.did}/{POST}/3kaaaaaaaaaaa", "cid": root["cid"]}
    assert (
        "does not exist" in error(create(sim, token, post(reply={"root": gone, "parent": ref})))[2]
    )


# --- reading ----------------------------------------------------------------------------------


def test_get_record_of_a_missing_key_is_record_not_found(sim: BlueskyControl, token: str) -> None:
    missing = sim.get(GET, repo=ALICE.did, collection=POST, rkey="3kaaaaaaaaaaa")
    assert error(missing) == (
        400,
        "RecordNotFound",
        f"Could not locate record: at://{ALICE.did}/{POST}/3kaaaaaaaaaaa",
    )
    assert error(sim.get(GET, repo=ALICE.did, collection=POST))[2] == (
        'Params must have the property "rkey"'
    )
    sim.expire_tokens()
    stale = sim.get(GET, token, repo=ALICE.did, collection=POST, rkey="3kaaaaaaaaaaa")
    assert error(stale)[1] == "ExpiredToken"  # optional auth, but a stale token is refused


def test_list_records_pages_newest_first(sim: BlueskyControl, token: str) -> None:
    rkeys = ["3kaaaaaaaaaa2", "3kaaaaaaaaaa3", "3kaaaaaaaaaa4"]
    for rkey in rkeys:
        create(sim, token, post(rkey), rkey)
    params = {"repo": ALICE.did, "collection": POST}
    first = sim.get("com.atproto.repo.listRecords", **params, limit="2").json()
    assert [r["value"]["text"] for r in first["records"]] == rkeys[:0:-1]
    rest = sim.get("com.atproto.repo.listRecords", **params, limit="2", cursor=first["cursor"])
    assert [r["value"]["text"] for r in rest.json()["records"]] == rkeys[:1]
    assert "cursor" not in rest.json()
    oldest = sim.get("com.atproto.repo.listRecords", **params, reverse="true").json()
    assert [r["value"]["text"] for r in oldest["records"]] == rkeys
    assert sim.get("com.atproto.repo.listRecords", **params, limit="0").status_code == 400


# --- rate limits, faults, control -------------------------------------------------------------


def test_rate_limit_headers_and_429(sim: BlueskyControl) -> None:
    sim.configure(rate_limit=3, rate_window_s=60)
    answers = [sim.get("com.atproto.identity.resolveHandle", handle=ALICE.handle) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["RateLimit-Policy"] == "3;w=60"
    assert error(answers[-1])[:2] == (429, "RateLimitExceeded")
    assert sim.stats()["rate_limited"] == 1


def test_scripted_faults(sim: BlueskyControl, token: str) -> None:
    sim.configure(retry_after_s=9)
    sim.script("rate_limit", "unavailable", "rejected", "error_after_create", "ok")
    limited = create(sim, token, post("a"))
    assert error(limited)[:2] == (429, "RateLimitExceeded")
    assert 8 <= int(limited.headers["RateLimit-Reset"]) - time.time() <= 9
    assert error(create(sim, token, post("b")))[:2] == (503, "NotEnoughResources")
    assert error(create(sim, token, post("c")))[2] == "rejected by fault injection"
    assert error(create(sim, token, post("d")))[:2] == (500, "InternalServerError")
    assert create(sim, token, post("e")).status_code == 200
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
                f"{sim.base_url}/xrpc/{CREATE}",
                json={**body, "record": post(text)},
                headers={"Authorization": f"Bearer {token}"},
                timeout=CLIENT_TIMEOUT_S,
            )
        assert time.monotonic() - started < CLIENT_TIMEOUT_S + 1
    assert [r["value"]["text"] for r in sim.records()] == ["lost"]


def test_unknown_methods_and_wrong_verbs(sim: BlueskyControl) -> None:
    assert error(sim.get("app.bsky.feed.getTimeline"))[:2] == (501, "MethodNotImplemented")
    assert error(sim.get(CREATE))[2] == "Incorrect HTTP method (GET) expected POST"
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
