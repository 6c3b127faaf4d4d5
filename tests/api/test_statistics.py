"""POST /post-statistics and /profile-statistics (publora-latest §2.5, Publora's
platform-statistics page and OpenAPI): read from the Mastodon and Bluesky simulators over
loopback, cached two hours per connection, only for posts Herald published for the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from herald.models import AnalyticsCacheEntry
from herald.sim.bluesky import create_bluesky_app
from herald.sim.bluesky_config import DEMO_ACCOUNT, BlueskyConfig
from herald.sim.mastodon import create_mastodon_app
from herald.sim.mastodon_config import DEFAULT_ACCOUNT
from sim_support import serve_in_thread
from support import LiveServer, Tenant, create_post, error_body, force_target_states, update_target

METRIC_KEYS = {
    "reactions",
    "comments",
    "reposts",
    "quotes",
    "saves",
    "impressions",
    "reach",
    "clicks",
}


@pytest.fixture
def instance() -> Iterator[str]:
    with serve_in_thread(create_mastodon_app()) as base:
        yield base


@pytest.fixture
def pds() -> Iterator[str]:
    """A PDS with an AppView behind it, as bsky.social has (a bare PDS has no app.bsky.*)."""
    with serve_in_thread(create_bluesky_app(BlueskyConfig(appview=True))) as base:
        yield base


def _connect(tenant: Tenant, **body: Any) -> str:
    response = tenant.client.post("/platform-connections", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["connection"]["platformId"])


def _published(server: LiveServer, tenant: Tenant, platform_id: str, posted_id: str) -> str:
    """A post of the tenant's on `platform_id`, as the engine leaves it once published."""
    group_id = create_post(tenant, status="draft", platforms=[platform_id])
    force_target_states(server, group_id, ["published"])
    update_target(server, group_id, external_id=posted_id)
    return group_id


def _mastodon_status(instance: str, text: str = "Hello") -> str:
    headers = {"Authorization": f"Bearer {DEFAULT_ACCOUNT.token}"}
    response = httpx.post(f"{instance}/api/v1/statuses", json={"status": text}, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _reads(instance: str) -> dict[str, int]:
    stats = httpx.get(f"{instance}/_sim/stats").json()
    return {"status": stats["status_reads"], "account": stats["account_reads"]}


def test_mastodon_post_statistics_are_read_then_cached(
    server: LiveServer, tenant: Tenant, instance: str
) -> None:
    platform_id = _connect(
        tenant, platform="mastodon", instanceUrl=instance, accessToken=DEFAULT_ACCOUNT.token
    )
    status_id = _mastodon_status(instance)
    _published(server, tenant, platform_id, status_id)
    httpx.post(
        f"{instance}/_sim/engagement",
        json={"statusId": status_id, "favourites": 42, "reblogs": 7},
    ).raise_for_status()
    body = {"posts": [{"platform": "mastodon", "platformId": platform_id, "postedId": status_id}]}
    first = tenant.client.post("/post-statistics", json=body)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "success": True,
        "stats": {
            status_id: {
                "reactions": 42,
                "comments": 0,
                "reposts": 7,
                "quotes": None,  # not a Mastodon 4.5 answer: no quotes_count
                "saves": None,  # Mastodon has none
                "impressions": None,
                "reach": None,
                "clicks": None,
            }
        },
    }
    reads = _reads(instance)["status"]
    httpx.post(f"{instance}/_sim/engagement", json={"statusId": status_id, "favourites": 50})
    # The prefix is optional, and the answer comes from the cache: no second call.
    bare = {"posts": [{**body["posts"][0], "platformId": platform_id.removeprefix("mastodon-")}]}
    again = tenant.client.post("/post-statistics", json=bare).json()
    assert again == first.json()
    assert _reads(instance)["status"] == reads

    async def expire(session: Any) -> None:
        await session.execute(
            update(AnalyticsCacheEntry).values(expires_at=AnalyticsCacheEntry.fetched_at)
        )

    server.transaction(expire)
    fresh = tenant.client.post("/post-statistics", json=body).json()
    assert fresh["stats"][status_id]["reactions"] == 50


def test_ids_that_are_not_the_callers_published_posts_are_null_without_a_call(
    server: LiveServer, tenant: Tenant, instance: str, new_tenant: Callable[..., Tenant]
) -> None:
    platform_id = _connect(
        tenant, platform="mastodon", instanceUrl=instance, accessToken=DEFAULT_ACCOUNT.token
    )
    status_id = _mastodon_status(instance)
    before = _reads(instance)["status"]
    body = {
        "posts": [
            {"platform": "mastodon", "platformId": platform_id, "postedId": status_id},
            {"platform": "bluesky", "platformId": "bluesky-did:plc:nobody", "postedId": "at://x"},
        ]
    }
    answer = tenant.client.post("/post-statistics", json=body).json()
    assert answer == {
        "success": True,
        "stats": {status_id: None, "at://x": None},
        "issues": {"bluesky-did:plc:nobody": "CONNECTION_NOT_FOUND"},
    }
    assert _reads(instance)["status"] == before
    # Another tenant naming the first one's connection has no such connection.
    _published(server, tenant, platform_id, status_id)
    stranger = new_tenant("Other").client.post("/post-statistics", json=body).json()
    assert stranger["stats"][status_id] is None
    assert stranger["issues"][platform_id] == "CONNECTION_NOT_FOUND"


def test_a_deleted_post_is_null_and_a_revoked_token_is_an_issue(
    server: LiveServer, tenant: Tenant, instance: str
) -> None:
    platform_id = _connect(
        tenant, platform="mastodon", instanceUrl=instance, accessToken=DEFAULT_ACCOUNT.token
    )
    _published(server, tenant, platform_id, "999999")  # no such status on the instance
    body = {"posts": [{"platform": "mastodon", "platformId": platform_id, "postedId": "999999"}]}
    answer = tenant.client.post("/post-statistics", json=body).json()
    assert answer == {"success": True, "stats": {"999999": None}}

    async def revoke(session: Any) -> None:
        from herald.models import Connection

        await session.execute(
            update(Connection).values(
                credentials=server.context.secret_box.seal({"accessToken": "revoked"})
            )
        )
        await session.execute(
            update(AnalyticsCacheEntry).values(expires_at=AnalyticsCacheEntry.fetched_at)
        )

    server.transaction(revoke)
    revoked = tenant.client.post("/post-statistics", json=body).json()
    assert revoked["stats"] == {"999999": None}
    assert revoked["issues"] == {platform_id: "AUTH_REVOKED"}
    profile = tenant.client.post(
        "/profile-statistics", json={"platform": "mastodon", "platformId": platform_id}
    ).json()
    assert profile == {
        "success": True,
        "profile": None,
        "cached": False,
        "fetchedAt": None,
        "unavailable": "AUTH_REVOKED",
    }


def test_bluesky_post_and_profile_statistics(server: LiveServer, tenant: Tenant, pds: str) -> None:
    platform_id = _connect(
        tenant,
        platform="bluesky",
        handle=DEMO_ACCOUNT.handle,
        appPassword=DEMO_ACCOUNT.app_password,
        pdsUrl=pds,
    )
    session = httpx.post(
        f"{pds}/xrpc/com.atproto.server.createSession",
        json={"identifier": DEMO_ACCOUNT.handle, "password": DEMO_ACCOUNT.app_password},
    ).json()
    record = {"$type": "app.bsky.feed.post", "text": "Hi", "createdAt": "2026-12-05T10:00:00.000Z"}
    created = httpx.post(
        f"{pds}/xrpc/com.atproto.repo.createRecord",
        json={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record},
        headers={"Authorization": f"Bearer {session['accessJwt']}"},
    )
    assert created.status_code == 200, created.text
    uri = created.json()["uri"]
    _published(server, tenant, platform_id, uri)
    counts = {"uri": uri, "likeCount": 3, "replyCount": 1, "repostCount": 2, "quoteCount": 1}
    httpx.post(f"{pds}/_sim/engagement", json={**counts, "bookmarkCount": 4}).raise_for_status()
    httpx.post(
        f"{pds}/_sim/engagement", json={"did": session["did"], "followers": 12, "follows": 5}
    )
    body = {"posts": [{"platform": "bluesky", "platformId": platform_id, "postedId": uri}]}
    answer = tenant.client.post("/post-statistics", json=body).json()
    stats = answer["stats"][uri]
    assert stats is not None, answer
    assert set(stats) == METRIC_KEYS
    assert (stats["reactions"], stats["comments"], stats["reposts"]) == (3, 1, 2)
    assert (stats["quotes"], stats["saves"], stats["impressions"]) == (1, 4, None)
    query = {"platform": "bluesky", "platformId": platform_id}
    first = tenant.client.post("/profile-statistics", json=query).json()
    assert first["profile"] == {"followers": 12, "following": 5, "posts": 1}
    assert (first["cached"], first["success"]) == (False, True)
    second = tenant.client.post("/profile-statistics", json=query).json()
    assert second["cached"] is True
    assert second["fetchedAt"] == first["fetchedAt"]
    assert second["profile"] == first["profile"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/post-statistics", {}, "posts array is required"),
        ("/post-statistics", {"posts": []}, "posts array is required"),
        (
            "/post-statistics",
            {"posts": [{"platform": "mastodon", "platformId": "1", "postedId": "1"}] * 51},
            "Maximum 50 posts per request",
        ),
        (
            "/post-statistics",
            {"posts": [{"platform": "mastodon", "platformId": 1, "postedId": "1"}]},
            "Each post must have string platform, platformId and postedId",
        ),
        (
            "/post-statistics",
            {"posts": [{"platform": "x", "platformId": "1", "postedId": "1"}]},
            'Unsupported platform "x". Supported: mastodon, bluesky',
        ),
        ("/profile-statistics", {"platform": "mastodon"}, "platform and platformId are required"),
        (
            "/profile-statistics",
            {"platform": "twitter", "platformId": "1"},
            'Unsupported platform "twitter". Supported: mastodon, bluesky',
        ),
    ],
)
def test_refusals(tenant: Tenant, path: str, body: dict[str, Any], message: str) -> None:
    response = tenant.client.post(path, json=body)
    assert response.status_code == 400
    assert response.json()["error"] == message


def test_profile_of_an_unknown_connection_is_404(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/profile-statistics", json={"platform": "mastodon", "platformId": "mastodon-1"}
    )
    assert response.status_code == 404
    assert response.json() == error_body("mastodon connection not found", "CONNECTION_NOT_FOUND")
