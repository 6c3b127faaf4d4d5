"""Herald against servers it did not write: a thread with two images goes through the API and the
engine to the reference Bluesky PDS and to mastodon-mock, and is read back through each server's
own API (not through Herald, and not through our simulators)."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from herald.domain.platform import Platform
from herald.engine.dispatcher import Engine
from herald.net.egress import EgressPolicy
from herald.platforms.base import MediaItem, PublishRequest, RejectedError
from herald.platforms.bluesky.connector import BlueskyConnector
from herald.platforms.bluesky.record_key import record_key
from herald.platforms.mastodon.connector import MastodonConnector
from interop_support import BlueskyAccount, BlueskyPds, MastodonMock
from sim_support import platform_client, publish_request
from support import (
    Tenant,
    connect_account,
    facet_spans,
    png,
    post_when,
    schedule_with_files,
    without_part_number,
)

# About 650 graphemes: three Bluesky posts (300 each), two Mastodon statuses (500 each).
# The interop servers listen on loopback, which the default policy refuses.
LOOPBACK_OPEN = EgressPolicy(allow=(ipaddress.ip_network("127.0.0.0/8"),))
SENTENCES = [
    "Release day at Herald 🎉: notes at https://example.com/release?x=1 for all.",
    "Thanks to @bob.test for the review, and to everyone who tried it #herald.",
    "Posts go out on the second they are due and never twice.",
    "Threads split at sentence ends so that no thought is cut in half.",
    "Alt text travels with every image to the platforms that show it.",
    "Mastodon gets an idempotency key with every status.",
    "Bluesky gets a record key chosen before the call is made.",
    "A retry after a lost answer finds the first post instead of making a second.",
    "Rate limits pause one connection and not the whole server.",
    "Nothing is lost when a worker dies between two parts of a thread.",
    "That is all for today ✨.",
]
CONTENT = " ".join(SENTENCES)
ALT_TEXTS = ["A blue square", "An orange rectangle"]
IMAGES = [png((10, 120, 200), (40, 40)), png((240, 140, 20), (60, 30))]


def publish_group(tenant: Tenant, platform_id: str) -> dict[str, Any]:
    group_id = schedule_with_files(tenant, CONTENT, [platform_id], IMAGES, ALT_TEXTS)
    body = post_when(tenant, group_id, "published", "failed", "partially_published", timeout=60)
    post: dict[str, Any] = body["posts"][0]
    assert post["status"] == "published", post
    return post


def test_a_thread_with_images_on_the_reference_pds(
    engine: Engine, tenant: Tenant, bluesky_pds: BlueskyPds, bluesky_bob: BlueskyAccount
) -> None:
    alice = bluesky_pds.account
    platform_id = connect_account(
        tenant,
        platform="bluesky",
        handle=alice.handle,
        appPassword=alice.app_password,
        pdsUrl=bluesky_pds.pds_url,
    )
    assert platform_id == f"bluesky-{alice.did}"
    post = publish_group(tenant, platform_id)

    xrpc = f"{bluesky_pds.pds_url}/xrpc"
    root_uri = post["postedId"]
    did, collection, rkey = root_uri.removeprefix("at://").split("/")
    assert (did, collection) == (alice.did, "app.bsky.feed.post")
    assert post["publishedUrl"] == f"https://bsky.app/profile/{alice.handle}/post/{rkey}"
    listed = httpx.get(
        f"{xrpc}/com.atproto.repo.listRecords",
        params={"repo": alice.did, "collection": "app.bsky.feed.post", "limit": 100},
    ).json()["records"]
    thread = [r for r in listed if r["uri"] == root_uri or _root_of(r) == root_uri]
    thread.sort(key=lambda r: r["value"]["createdAt"])
    assert len(thread) == 3
    root, *replies = thread
    texts = [without_part_number(r["value"]["text"]) for r in thread]
    assert " ".join(texts) == CONTENT
    for parent, reply in zip(thread, replies, strict=False):
        assert reply["value"]["reply"] == {
            "root": {"uri": root["uri"], "cid": root["cid"]},
            "parent": {"uri": parent["uri"], "cid": parent["cid"]},
        }

    images = root["value"]["embed"]["images"]
    assert [i["alt"] for i in images] == ALT_TEXTS
    for image, data in zip(images, IMAGES, strict=True):
        blob = httpx.get(
            f"{xrpc}/com.atproto.sync.getBlob",
            params={"did": alice.did, "cid": image["image"]["ref"]["$link"]},
        )
        assert blob.status_code == 200
        assert blob.content == data

    features = {
        (span, feature["$type"], feature.get("uri") or feature.get("tag") or feature.get("did"))
        for record in thread
        for span, feature in facet_spans(record["value"])
    }
    assert (
        "https://example.com/release?x=1",
        "app.bsky.richtext.facet#link",
        "https://example.com/release?x=1",
    ) in features
    assert ("#herald", "app.bsky.richtext.facet#tag", "herald") in features
    assert ("@bob.test", "app.bsky.richtext.facet#mention", bluesky_bob.did) in features


def _root_of(record: dict[str, Any]) -> str | None:
    reply = record["value"].get("reply")
    return reply["root"]["uri"] if reply else None


def bluesky_request(
    pds: BlueskyPds, account: BlueskyAccount, text: str, *media: MediaItem
) -> PublishRequest:
    """A connector-level request from `account` on the reference PDS."""
    return publish_request(
        pds.pds_url,
        platform=Platform.BLUESKY,
        account_external_id=account.did,
        media=media,
        text=text,
        options={"pdsUrl": pds.pds_url},
        credentials={"identifier": account.handle, "appPassword": account.app_password},
    )


def test_a_resend_with_the_same_key_never_makes_a_second_bluesky_post(
    bluesky_pds: BlueskyPds,
) -> None:
    """The reference PDS answers 500 for a taken record key; the connector must read that as
    'already published' and return the first post, and lookup must find it."""
    account = bluesky_pds.create_account(f"carol{secrets.token_hex(3)}.test")
    request = bluesky_request(bluesky_pds, account, "Once only")

    async def twice() -> tuple[Any, Any, Any]:
        async with platform_client(20) as client:
            first = await BlueskyConnector().publish(client, request, "key-once")
            again = await BlueskyConnector().publish(client, request, "key-once")
            found = await BlueskyConnector().lookup(client, request, "key-once")
            return first, again, found

    first, again, found = asyncio.run(twice())
    assert again == first == found
    assert first.external_id.endswith("/" + record_key("key-once", request.scheduled_at))
    listed = httpx.get(
        f"{bluesky_pds.pds_url}/xrpc/com.atproto.repo.listRecords",
        params={"repo": account.did, "collection": "app.bsky.feed.post"},
    ).json()["records"]
    assert [r["value"]["text"] for r in listed] == ["Once only"]


def test_a_thread_with_images_on_mastodon_mock(
    engine: Engine, tenant: Tenant, mastodon_mock: MastodonMock
) -> None:
    user = mastodon_mock.create_user(f"herald_{secrets.token_hex(4)}")
    platform_id = connect_account(
        tenant, platform="mastodon", instanceUrl=mastodon_mock.url, accessToken=user.access_token
    )
    assert platform_id == f"mastodon-{user.account_id}"
    post = publish_group(tenant, platform_id)

    auth = {"Authorization": f"Bearer {user.access_token}"}
    api = f"{mastodon_mock.url}/api/v1"
    first = httpx.get(f"{api}/statuses/{post['postedId']}", headers=auth).json()
    assert post["publishedUrl"] == first["url"]
    assert [m["description"] for m in first["media_attachments"]] == ALT_TEXTS
    for attachment, data in zip(first["media_attachments"], IMAGES, strict=True):
        served = httpx.get(attachment["url"].replace("localhost", "127.0.0.1"))
        assert hashlib.sha256(served.content).digest() == hashlib.sha256(data).digest()
    context = httpx.get(f"{api}/statuses/{first['id']}/context", headers=auth).json()
    [second] = context["descendants"]
    assert second["in_reply_to_id"] == first["id"]
    assert second["media_attachments"] == []
    assert first["visibility"] == "public"


def test_mastodon_mock_replays_a_status_for_the_same_idempotency_key(
    mastodon_mock: MastodonMock,
) -> None:
    user = mastodon_mock.create_user(f"replay_{secrets.token_hex(4)}")
    request = publish_request(
        mastodon_mock.url,
        platform=Platform.MASTODON,
        account_external_id=user.account_id,
        media=(),
        text="Said once",
        options={"instanceUrl": mastodon_mock.url},
        credentials={"accessToken": user.access_token},
    )

    async def twice() -> tuple[Any, Any]:
        async with platform_client(20) as client:
            first = await MastodonConnector().publish(client, request, "key-said-once")
            again = await MastodonConnector().publish(client, request, "key-said-once")
            return first, again

    first, again = asyncio.run(twice())
    assert again == first
    statuses = httpx.get(
        f"{mastodon_mock.url}/api/v1/accounts/{user.account_id}/statuses",
        headers={"Authorization": f"Bearer {user.access_token}"},
    ).json()
    assert [s["id"] for s in statuses] == [first.external_id]


def test_a_video_over_the_pds_upload_limit_is_rejected_not_retried(
    bluesky_pds: BlueskyPds,
) -> None:
    """Streamed through the engine's own HTTP client, as publishing does: the reference PDS
    answers 413 for a blob over its 5 MiB limit, and that must come back as a clean rejection
    (nothing posted, nothing to retry), not as a broken pipe that looks like a network fault."""
    account = bluesky_pds.create_account(f"dave{secrets.token_hex(3)}.test")
    size = 6 * 1024 * 1024

    async def video_bytes() -> AsyncIterator[bytes]:
        for _ in range(size // 65536):
            yield b"\0" * 65536

    video = MediaItem("video", "video/mp4", "https://cdn.example/v.mp4", None, video_bytes)
    request = bluesky_request(bluesky_pds, account, "Too big", video)

    async def publish() -> Any:
        async with platform_client(20, connections=4) as client:
            return await BlueskyConnector().publish(client, request, "key-big")

    with pytest.raises(RejectedError) as refused:
        asyncio.run(publish())
    assert refused.value.http_status == 413
    assert "too large" in refused.value.message
    listed = httpx.get(
        f"{bluesky_pds.pds_url}/xrpc/com.atproto.repo.listRecords",
        params={"repo": account.did, "collection": "app.bsky.feed.post"},
    ).json()["records"]
    assert listed == []
