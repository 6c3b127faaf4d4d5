"""The Bluesky simulator's post records over HTTP: createRecord's lexicon checks and stricter
ones, taken keys, getRecord and listRecords."""

from __future__ import annotations

from typing import Any

import pytest

from bluesky_support import (
    ALICE,
    CREATE_RECORD,
    POST,
    BlueskyControl,
    create_post,
    png,
    post_record,
    upload_blob,
    xrpc_error,
)

GET = "com.atproto.repo.getRecord"
MENTION = "app.bsky.richtext.facet#mention"


# --- createRecord -----------------------------------------------------------------------------


def test_create_record_at_a_client_rkey_then_get_it(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    created = create_post(bluesky_sim, bluesky_token, post_record("hi"), "3kabcdefghijk")
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["uri"] == f"at://{ALICE.did}/{POST}/3kabcdefghijk"
    assert body["validationStatus"] == "valid"
    assert body["cid"].startswith("bafyrei")
    fetched = bluesky_sim.get(GET, repo=ALICE.did, collection=POST, rkey="3kabcdefghijk").json()
    assert (fetched["uri"], fetched["cid"], fetched["value"]["text"]) == (
        body["uri"],
        body["cid"],
        "hi",
    )


def test_a_taken_rkey_is_500_and_keeps_the_first_record(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    assert (
        create_post(bluesky_sim, bluesky_token, post_record("first"), "3kabcdefghijk").status_code
        == 200
    )
    second = create_post(bluesky_sim, bluesky_token, post_record("second"), "3kabcdefghijk")
    assert xrpc_error(second) == (500, "InternalServerError", "Internal Server Error")
    assert [r["value"]["text"] for r in bluesky_sim.records()] == ["first"]
    assert bluesky_sim.stats()["duplicates"] == 1


def test_without_an_rkey_the_pds_picks_a_tid(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    uris = [
        create_post(bluesky_sim, bluesky_token, post_record(str(n))).json()["uri"] for n in range(3)
    ]
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
    bluesky_sim: BlueskyControl, bluesky_token: str, text: str, message: str
) -> None:
    assert xrpc_error(create_post(bluesky_sim, bluesky_token, post_record(text))) == (
        400,
        "InvalidRequest",
        f"Invalid {POST} record: {message}",
    )
    assert create_post(bluesky_sim, bluesky_token, post_record("é" * 300)).status_code == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"rkey": "not-a-tid"}, "Invalid TID string"),
        ({"rkey": "kaaaaaaaaaaaa"}, "Invalid TID string"),
        ({"collection": "no spaces"}, "Invalid collection"),
        ({"record": post_record() | {"$type": "app.bsky.feed.like"}}, "Invalid $type"),
        ({"record": post_record() | {"createdAt": "yesterday"}}, "must be a valid datetime"),
        (
            {"record": post_record() | {"langs": ["en", "fr", "de", "es"]}},
            "array too big (maximum 3",
        ),
        ({"record": "text"}, "must be an object"),
        ({"repo": "nobody.test"}, "Could not find repo"),
    ],
)
def test_create_record_refuses_malformed_requests(
    bluesky_sim: BlueskyControl, bluesky_token: str, body: dict[str, Any], fragment: str
) -> None:
    payload = {"repo": ALICE.did, "collection": POST, "record": post_record(), **body}
    status, name, message = xrpc_error(bluesky_sim.post(CREATE_RECORD, bluesky_token, json=payload))
    assert (status, name) == (400, "InvalidRequest")
    assert fragment in message
    assert bluesky_sim.records() == []


def test_a_repo_of_another_account_is_not_the_sessions_to_write(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    bob = bluesky_sim.add_account(handle="bob.test", appPassword="bbbb")
    payload = {"repo": bob["did"], "collection": POST, "record": post_record()}
    assert xrpc_error(bluesky_sim.post(CREATE_RECORD, bluesky_token, json=payload))[:2] == (
        401,
        "AuthenticationRequired",
    )


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
    bluesky_sim: BlueskyControl, bluesky_token: str, facets: list[dict[str, Any]], fragment: str
) -> None:
    text = "日 @alice.test"  # 15 bytes: 日 is bytes 0-2, the mention 4-15
    status, _, message = xrpc_error(
        create_post(bluesky_sim, bluesky_token, post_record(text, facets=facets))
    )
    assert status == 400
    assert fragment in message
    assert (
        create_post(
            bluesky_sim, bluesky_token, post_record(text, facets=[facet(4, 15)])
        ).status_code
        == 200
    )


def refusal(bluesky_sim: BlueskyControl, bluesky_token: str, **fields: Any) -> str:
    """The message createRecord answers for a post with these fields."""
    response = create_post(bluesky_sim, bluesky_token, post_record(**fields))
    assert response.status_code == 400, response.text
    return xrpc_error(response)[2]


def images(blob: dict[str, Any], count: int) -> dict[str, Any]:
    return {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": ""}] * count}


def test_image_embeds_take_uploaded_blobs_up_to_four(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    blob = upload_blob(bluesky_sim, bluesky_token, png(2, 2), "image/png")
    five = refusal(bluesky_sim, bluesky_token, embed=images(blob, 5))
    assert "array too big (maximum 4, got 5) at $.record.embed.images" in five
    foreign = {**blob, "ref": {"$link": "bafkreinotuploaded"}}
    assert (
        refusal(bluesky_sim, bluesky_token, embed=images(foreign, 1))
        == "Could not find blob: bafkreinotuploaded"
    )
    ratio = images(blob, 1)
    ratio["images"][0] = {**ratio["images"][0], "aspectRatio": {"width": 0, "height": 1}}
    assert "positive integers" in refusal(bluesky_sim, bluesky_token, embed=ratio)
    assert (
        create_post(bluesky_sim, bluesky_token, post_record(embed=images(blob, 4))).status_code
        == 200
    )


def test_blob_types_must_suit_the_embed(bluesky_sim: BlueskyControl, bluesky_token: str) -> None:
    video = upload_blob(bluesky_sim, bluesky_token, b"mp4 bytes", "video/mp4")
    image = upload_blob(bluesky_sim, bluesky_token, png(2, 2), "image/png")
    assert "must match image/*" in refusal(bluesky_sim, bluesky_token, embed=images(video, 1))
    as_video = {"$type": "app.bsky.embed.video", "video": image}
    assert "must match video/mp4" in refusal(bluesky_sim, bluesky_token, embed=as_video)
    ok = {"$type": "app.bsky.embed.video", "video": video, "alt": "clip"}
    assert create_post(bluesky_sim, bluesky_token, post_record(embed=ok)).status_code == 200
    other = {"$type": "app.bsky.embed.external", "external": {}}
    assert "does not take embeds" in refusal(bluesky_sim, bluesky_token, embed=other)


def test_replies_must_name_stored_records_by_uri_and_cid(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    root = create_post(bluesky_sim, bluesky_token, post_record("root")).json()
    ref = {"uri": root["uri"], "cid": root["cid"]}
    reply = create_post(
        bluesky_sim, bluesky_token, post_record("reply", reply={"root": ref, "parent": ref})
    )
    assert reply.status_code == 200
    stale = {"uri": root["uri"], "cid": "bafyreiwrong"}
    assert "does not match" in refusal(
        bluesky_sim, bluesky_token, reply={"root": ref, "parent": stale}
    )
    gone = {"uri": f"at://{ALICE.did}/{POST}/3kaaaaaaaaaaa", "cid": root["cid"]}
    assert "does not exist" in refusal(
        bluesky_sim, bluesky_token, reply={"root": gone, "parent": ref}
    )


# --- reading ----------------------------------------------------------------------------------


def test_get_record_of_a_missing_key_is_record_not_found(
    bluesky_sim: BlueskyControl, bluesky_token: str
) -> None:
    missing = bluesky_sim.get(GET, repo=ALICE.did, collection=POST, rkey="3kaaaaaaaaaaa")
    assert xrpc_error(missing) == (
        400,
        "RecordNotFound",
        f"Could not locate record: at://{ALICE.did}/{POST}/3kaaaaaaaaaaa",
    )
    assert xrpc_error(bluesky_sim.get(GET, repo=ALICE.did, collection=POST))[2] == (
        'Params must have the property "rkey"'
    )
    bluesky_sim.expire_tokens()
    stale = bluesky_sim.get(
        GET, bluesky_token, repo=ALICE.did, collection=POST, rkey="3kaaaaaaaaaaa"
    )
    assert xrpc_error(stale)[1] == "ExpiredToken"  # optional auth, but a stale token is refused


def test_list_records_pages_newest_first(bluesky_sim: BlueskyControl, bluesky_token: str) -> None:
    rkeys = ["3kaaaaaaaaaa2", "3kaaaaaaaaaa3", "3kaaaaaaaaaa4"]
    for rkey in rkeys:
        create_post(bluesky_sim, bluesky_token, post_record(rkey), rkey)
    params = {"repo": ALICE.did, "collection": POST}
    first = bluesky_sim.get("com.atproto.repo.listRecords", **params, limit="2").json()
    assert [r["value"]["text"] for r in first["records"]] == rkeys[:0:-1]
    rest = bluesky_sim.get(
        "com.atproto.repo.listRecords", **params, limit="2", cursor=first["cursor"]
    )
    assert [r["value"]["text"] for r in rest.json()["records"]] == rkeys[:1]
    assert "cursor" not in rest.json()
    oldest = bluesky_sim.get("com.atproto.repo.listRecords", **params, reverse="true").json()
    assert [r["value"]["text"] for r in oldest["records"]] == rkeys
    assert bluesky_sim.get("com.atproto.repo.listRecords", **params, limit="0").status_code == 400
