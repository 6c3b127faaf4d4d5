"""The LinkedIn simulator's facts, one per test, over loopback HTTP: version headers, the post
URN in x-restli-id, duplicate detection, the daily quota, uploads and page permissions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from urllib.parse import quote

import pytest

from herald.sim.linkedin import create_linkedin_app
from linkedin_support import ADA, ENGINES, GRACE, OTHER, PAGE_SCOPE, LinkedInControl, sim_config
from sim_support import serve_in_thread


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with serve_in_thread(create_linkedin_app(sim_config())) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def control(sim_url: str) -> Iterator[LinkedInControl]:
    """One control client per module: making an HTTP client costs more than a test."""
    with closing(LinkedInControl(sim_url)) as made:
        yield made


@pytest.fixture
def sim(control: LinkedInControl) -> LinkedInControl:
    control.reset()
    return control


def _post(author: str, text: str = "Hello LinkedIn") -> dict[str, object]:
    return {
        "author": author,
        "commentary": text,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def test_a_post_answers_201_with_its_urn_in_x_restli_id_and_no_body(sim: LinkedInControl) -> None:
    answer = sim.rest("POST", "/rest/posts", sim.token(), json=_post(ADA.urn))
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-restli-id"].startswith("urn:li:share:")
    assert answer.content == b""
    read = sim.rest(
        "GET", f"/rest/posts/{quote(answer.headers['x-restli-id'], safe='')}", sim.token()
    )
    assert read.json()["commentary"] == "Hello LinkedIn"


def test_a_sunset_version_is_426_nonexistent_version(sim: LinkedInControl) -> None:
    answer = sim.rest("POST", "/rest/posts", sim.token(), json=_post(ADA.urn), version="202504")
    assert answer.status_code == 426
    assert answer.json() == {
        "status": 426,
        "code": "NONEXISTENT_VERSION",
        "message": "Requested version 20250401 is not active",
    }
    missing = sim.rest("POST", "/rest/posts", sim.token(), json=_post(ADA.urn), version=None)
    assert (missing.status_code, missing.json()["code"]) == (400, "VERSION_MISSING")
    restli = sim.rest(
        "POST",
        "/rest/posts",
        sim.token(),
        json=_post(ADA.urn),
        headers={"X-Restli-Protocol-Version": "1.0.0"},
    )
    assert restli.status_code == 400


def test_the_same_post_again_is_422_duplicate_post_naming_the_first(
    sim: LinkedInControl,
) -> None:
    token = sim.token()
    first = sim.rest("POST", "/rest/posts", token, json=_post(ADA.urn))
    again = sim.rest("POST", "/rest/posts", token, json=_post(ADA.urn))
    assert again.status_code == 422
    body = again.json()
    assert body["message"] == f"Content is a duplicate of {first.headers['x-restli-id']}"
    assert body["errorDetails"]["inputErrors"][0]["code"] == "DUPLICATE_POST"
    assert len(sim.posts()) == 1


def test_the_daily_quota_answers_429_once_spent(sim: LinkedInControl) -> None:
    sim.configure(daily_posts_per_member=2)
    token = sim.token()
    answers = [
        sim.rest("POST", "/rest/posts", token, json=_post(ADA.urn, f"n{i}")) for i in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert "1 DAY limit" in answers[2].json()["message"]
    assert sim.stats()["quota_refusals"] == 1


def test_a_page_post_needs_the_scope_and_an_administrator(sim: LinkedInControl) -> None:
    member_only = sim.rest("POST", "/rest/posts", sim.token(), json=_post(ENGINES.urn))
    assert member_only.status_code == 403
    admin = sim.token(scope=PAGE_SCOPE)
    assert sim.rest("POST", "/rest/posts", admin, json=_post(ENGINES.urn)).status_code == 201
    assert sim.rest("POST", "/rest/posts", admin, json=_post(OTHER.urn)).status_code == 403
    acls = sim.rest("GET", "/rest/organizationAcls", admin, params={"q": "roleAssignee"})
    assert [e["organization"] for e in acls.json()["elements"]] == [ENGINES.urn]
    grace = sim.token(GRACE, scope=PAGE_SCOPE)
    acls = sim.rest("GET", "/rest/organizationAcls", grace, params={"q": "roleAssignee"})
    assert [e["organization"] for e in acls.json()["elements"]] == [OTHER.urn]


def test_an_image_is_posted_only_after_its_upload(sim: LinkedInControl) -> None:
    token = sim.token()
    init = sim.rest(
        "POST",
        "/rest/images",
        token,
        params={"action": "initializeUpload"},
        json={"initializeUploadRequest": {"owner": ADA.urn}},
    ).json()["value"]
    body = {**_post(ADA.urn), "content": {"media": {"id": init["image"], "altText": "A"}}}
    early = sim.rest("POST", "/rest/posts", token, json=body)
    assert early.status_code == 422
    put = sim.http.put(
        init["uploadUrl"].removeprefix(sim.base_url),
        content=b"\x89PNG...",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert put.status_code == 201
    posted = sim.rest("POST", "/rest/posts", token, json=body)
    assert posted.headers["x-restli-id"].startswith("urn:li:ugcPost:")


def test_a_video_goes_in_parts_and_finalizes_with_their_etags(sim: LinkedInControl) -> None:
    token = sim.token()
    size = 300 * 1024
    init = sim.rest(
        "POST",
        "/rest/videos",
        token,
        params={"action": "initializeUpload"},
        json={"initializeUploadRequest": {"owner": ADA.urn, "fileSizeBytes": size}},
    ).json()["value"]
    parts = init["uploadInstructions"]
    assert [(p["firstByte"], p["lastByte"]) for p in parts] == [
        (0, 131071),
        (131072, 262143),
        (262144, size - 1),
    ]
    etags = []
    for part in parts:
        length = part["lastByte"] - part["firstByte"] + 1
        put = sim.http.put(part["uploadUrl"].removeprefix(sim.base_url), content=b"v" * length)
        etags.append(put.headers["ETag"])
    wrong = {
        "video": init["video"],
        "uploadToken": init["uploadToken"],
        "uploadedPartIds": etags[::-1],
    }
    finalize = {"action": "finalizeUpload"}
    assert (
        sim.rest(
            "POST", "/rest/videos", token, params=finalize, json={"finalizeUploadRequest": wrong}
        ).status_code
        == 400
    )
    right = {**wrong, "uploadedPartIds": etags}
    assert (
        sim.rest(
            "POST", "/rest/videos", token, params=finalize, json={"finalizeUploadRequest": right}
        ).status_code
        == 200
    )
    status = sim.rest("GET", f"/rest/videos/{quote(init['video'], safe='')}", token)
    assert status.json()["status"] == "AVAILABLE"


def test_comments_and_reactions_land_on_the_post(sim: LinkedInControl) -> None:
    token = sim.token()
    urn = sim.rest("POST", "/rest/posts", token, json=_post(ADA.urn)).headers["x-restli-id"]
    path = f"/rest/socialActions/{quote(urn, safe='')}/comments"
    comment = sim.rest(
        "POST", path, token, json={"actor": ADA.urn, "object": urn, "message": {"text": "First!"}}
    )
    assert comment.status_code == 201
    assert comment.headers["x-restli-id"] == f"urn:li:comment:({urn},{comment.json()['id']})"
    react = sim.rest(
        "POST",
        "/rest/reactions",
        token,
        params={"actor": ADA.urn},
        json={"root": urn, "reactionType": "PRAISE"},
    )
    assert react.status_code == 201
    again = sim.rest(
        "POST",
        "/rest/reactions",
        token,
        params={"actor": ADA.urn},
        json={"root": urn, "reactionType": "LIKE"},
    )
    assert again.status_code == 409
    meta = sim.rest("GET", f"/rest/socialMetadata/{quote(urn, safe='')}", token).json()
    assert meta["reactionSummaries"]["PRAISE"]["count"] == 1
    assert meta["commentSummary"]["count"] == 1


def test_an_unknown_token_is_401_in_linkedins_shape(sim: LinkedInControl) -> None:
    answer = sim.rest("POST", "/rest/posts", "nope", json=_post(ADA.urn))
    assert answer.status_code == 401
    assert answer.json() == {
        "status": 401,
        "serviceErrorCode": 65600,
        "code": "INVALID_ACCESS_TOKEN",
        "message": "Invalid access token",
    }
