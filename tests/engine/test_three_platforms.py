"""One post group to Bluesky, Mastodon and Telegram, through the API, the engine and each
platform's simulator over loopback: connect with credentials, attach two images, publish, and
read back what each platform received."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import regex

from herald.engine.dispatcher import Engine
from herald.sim.bluesky import create_bluesky_app
from herald.sim.bluesky_config import DEMO_ACCOUNT
from herald.sim.mastodon import create_mastodon_app
from herald.sim.mastodon_config import DEFAULT_ACCOUNT
from herald.sim.telegram import create_telegram_app
from herald.sim.telegram_config import DEMO_TOKEN
from sim_support import serve_in_thread
from support import (
    Tenant,
    connect_account,
    facet_spans,
    iso_in,
    png,
    post_when,
    schedule_with_files,
    without_part_number,
)

# 12 sentences, about 620 graphemes: a Bluesky thread (300 each), a Mastodon thread (500 each),
# one Telegram caption (1,024). A link, a hashtag and emoji test the Bluesky facets' byte offsets.
SENTENCES = [
    "Herald ships today 🎉 and the notes are at https://example.com/notes?v=1 for everyone.",
    "It publishes to Bluesky, Mastodon and Telegram from one request #herald.",
    "Every post goes out on the second it is due, and never twice.",
    "Threads are split on sentence ends, so no thought is cut in half.",
    "Images carry their alt text to the platforms that show it to people who need it.",
    "Mastodon gets an idempotency key with every status it is sent.",
    "Bluesky gets a record key chosen before the call, so a retry finds the first post.",
    "Telegram gets an album with the text as its caption.",
    "Rate limits pause one connection, not the whole server.",
    "Expired credentials pause the connection until it is connected again.",
    "Nothing is lost when a worker dies in the middle of a thread.",
    "Thanks for reading this far ✨.",
]
CONTENT = " ".join(SENTENCES)
ALT_TEXTS = ["A blue square", "An orange rectangle"]


IMAGES = [png((10, 120, 200), (40, 40)), png((240, 140, 20), (60, 30))]


@pytest.fixture
def platforms() -> Iterator[dict[str, str]]:
    with (
        serve_in_thread(create_bluesky_app()) as bluesky,
        serve_in_thread(create_mastodon_app()) as mastodon,
        serve_in_thread(create_telegram_app()) as telegram,
    ):
        yield {"bluesky": bluesky, "mastodon": mastodon, "telegram": telegram}


def test_one_group_publishes_to_bluesky_mastodon_and_telegram(
    engine: Engine, tenant: Tenant, platforms: dict[str, str]
) -> None:
    assert len(regex.findall(r"\X", CONTENT)) > 600
    ids = {
        "bluesky": connect_account(
            tenant,
            platform="bluesky",
            handle=DEMO_ACCOUNT.handle,
            appPassword=DEMO_ACCOUNT.app_password,
            pdsUrl=platforms["bluesky"],
        ),
        "mastodon": connect_account(
            tenant,
            platform="mastodon",
            instanceUrl=platforms["mastodon"],
            accessToken=DEFAULT_ACCOUNT.token,
        ),
        "telegram": connect_account(
            tenant,
            platform="telegram",
            botToken=DEMO_TOKEN,
            chat="@herald_demo",
            apiUrl=platforms["telegram"],
        ),
    }
    assert ids["bluesky"] == f"bluesky-{DEMO_ACCOUNT.did}"
    assert ids["mastodon"] == f"mastodon-{DEFAULT_ACCOUNT.id}"
    assert ids["telegram"] == "telegram--1001000000001"

    group_id = schedule_with_files(tenant, CONTENT, list(ids.values()), IMAGES, ALT_TEXTS)
    body = post_when(tenant, group_id, "published", timeout=30)
    posts = {p["platform"]: p for p in body["posts"]}
    assert set(posts) == {"bluesky", "mastodon", "telegram"}
    for post in posts.values():
        assert post["status"] == "published"
        assert post["postedId"]
        assert post["publishedUrl"].startswith("http")

    check_bluesky(platforms["bluesky"], posts["bluesky"])
    check_mastodon(platforms["mastodon"], posts["mastodon"])
    check_telegram(platforms["telegram"], posts["telegram"])


def check_bluesky(base: str, post: dict[str, Any]) -> None:
    records = httpx.get(f"{base}/_sim/records").json()["records"]
    assert len(records) == 3  # 620 graphemes at 300 per post
    root, *replies = records
    assert post["postedId"] == root["uri"]
    assert post["publishedUrl"] == (
        f"https://bsky.app/profile/{DEMO_ACCOUNT.handle}/post/{root['rkey']}"
    )
    texts = [r["value"]["text"] for r in records]
    assert [t.endswith(f" [{i}/{len(texts)}]") for i, t in enumerate(texts, 1)] == [True] * 3
    assert " ".join(without_part_number(t) for t in texts) == CONTENT
    images = root["value"]["embed"]["images"]
    assert [i["alt"] for i in images] == ALT_TEXTS
    assert [i["aspectRatio"] for i in images] == [
        {"width": 40, "height": 40},
        {"width": 60, "height": 30},
    ]
    for parent, reply in zip(records, replies, strict=False):
        assert reply["value"]["reply"] == {
            "root": {"uri": root["uri"], "cid": root["cid"]},
            "parent": {"uri": parent["uri"], "cid": parent["cid"]},
        }
        assert "embed" not in reply["value"]  # media go on the first part only
    facets = [(span, f["$type"]) for r in records for span, f in facet_spans(r["value"])]
    assert ("https://example.com/notes?v=1", "app.bsky.richtext.facet#link") in facets
    assert ("#herald", "app.bsky.richtext.facet#tag") in facets


def check_mastodon(base: str, post: dict[str, Any]) -> None:
    statuses = httpx.get(f"{base}/_sim/statuses").json()["statuses"]
    assert len(statuses) == 2  # 620 graphemes at 500 per status
    first, second = statuses
    assert post["postedId"] == first["id"]
    assert post["publishedUrl"] == first["url"]
    assert second["in_reply_to_id"] == first["id"]
    assert all(s["idempotency_key"] for s in statuses)
    assert first["idempotency_key"] != second["idempotency_key"]
    assert {s["visibility"] for s in statuses} == {"public"}
    media = httpx.get(f"{base}/_sim/media").json()["media"]
    attached = [m for m in media if m["id"] in first["media_ids"]]
    assert [m["description"] for m in attached] == ALT_TEXTS
    assert [m["sha256"] for m in attached] == [hashlib.sha256(d).hexdigest() for d in IMAGES]
    assert second["media_ids"] == []


def check_telegram(base: str, post: dict[str, Any]) -> None:
    messages = httpx.get(f"{base}/_sim/messages").json()["messages"]
    assert len(messages) == 2  # one album of two photos
    assert {m["media_group_id"] for m in messages} != {None}
    assert len({m["media_group_id"] for m in messages}) == 1
    assert [m["media"]["sha256"] for m in messages] == [
        hashlib.sha256(d).hexdigest() for d in IMAGES
    ]
    assert messages[0]["caption"] == CONTENT
    assert post["postedId"] == str(messages[0]["message_id"])
    assert post["publishedUrl"] == f"https://t.me/herald_demo/{messages[0]['message_id']}"


def test_a_revoked_mastodon_token_holds_the_connection_until_it_is_reconnected(
    engine: Engine, tenant: Tenant, platforms: dict[str, str]
) -> None:
    """401 from the instance: the post fails as NEEDS_REAUTH, later posts wait instead of
    failing, and connecting again with a working token sends them."""
    instance = platforms["mastodon"]
    added = {"username": "revocable", "token": "first-token", "id": "4242"}
    httpx.post(f"{instance}/_sim/accounts", json=added).raise_for_status()
    body = {"platform": "mastodon", "instanceUrl": instance, "accessToken": "first-token"}
    platform_id = connect_account(tenant, **body)
    assert platform_id == "mastodon-4242"
    # Revoke: a reset drops added accounts; the same account comes back under a new token.
    httpx.post(f"{instance}/_sim/reset").raise_for_status()
    httpx.post(f"{instance}/_sim/accounts", json={**added, "token": "second-token"})

    def create() -> str:
        response = tenant.client.post(
            "/create-post",
            json={"content": "Hello", "platforms": [platform_id], "scheduledTime": iso_in()},
        )
        assert response.status_code == 200, response.text
        group_id: str = response.json()["postGroupId"]
        return group_id

    first = post_when(tenant, create(), "failed")["posts"][0]
    assert first["errorCode"] == "NEEDS_REAUTH"
    assert "Mastodon refused the access token" in first["errorMessage"]
    held = create()
    assert tenant.client.get(f"/get-post/{held}").json()["status"] == "scheduled"
    assert httpx.get(f"{instance}/_sim/statuses").json()["statuses"] == []

    connect_account(tenant, **{**body, "accessToken": "second-token"})
    engine.wake()
    post_when(tenant, held, "published", timeout=20)
    [status] = httpx.get(f"{instance}/_sim/statuses").json()["statuses"]
    assert status["account_id"] == "4242"
