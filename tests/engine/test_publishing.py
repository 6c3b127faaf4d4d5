"""The engine publishes to the sandbox over real HTTP: posts, threads, times, API statuses."""

from __future__ import annotations

import itertools

import httpx

from herald.domain.timestamps import parse_timestamp
from herald.engine.dispatcher import Engine
from support import LiveServer, Tenant, create_post, iso_in, post_when, target_rows, wait_until


def _create(tenant: Tenant, **fields: object) -> str:
    """Due now unless `fields` give a time or a status (support.create_post)."""
    return create_post(tenant, **fields)


def test_a_post_scheduled_now_is_published_now(
    engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    group_id = _create(tenant, scheduledTime=iso_in())
    body = post_when(tenant, group_id, "published")
    post = body["posts"][0]
    assert post["status"] == "published"
    sim_posts = sandbox.get("/_sim/posts").json()["posts"]
    assert len(sim_posts) == 1
    assert post["postedId"] == sim_posts[0]["id"]
    assert post["publishedUrl"] == sim_posts[0]["url"]
    assert post["publishedAt"] is not None
    assert "error" not in post
    assert sim_posts[0]["text"] == "Hello from Herald"
    assert sim_posts[0]["account"] == tenant.platform_id.split("-", 1)[1]
    assert httpx.get(post["publishedUrl"]).status_code == 200
    listed = tenant.client.get("/list-posts", params={"status": "published"}).json()
    assert [p["postGroupId"] for p in listed["posts"]] == [group_id]


def test_a_scheduled_post_is_not_sent_before_its_time(
    engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    when = iso_in(seconds=2.5)
    group_id = _create(tenant, scheduledTime=when)
    assert tenant.client.get(f"/get-post/{group_id}").json()["status"] == "scheduled"
    post_when(tenant, group_id, "published")
    created = sandbox.get("/_sim/posts").json()["posts"][0]["createdAt"]
    assert parse_timestamp(created) >= parse_timestamp(when)


def test_a_paused_post_is_not_sent(engine: Engine, tenant: Tenant, sandbox: httpx.Client) -> None:
    group_id = _create(tenant, scheduledTime=iso_in(seconds=3))
    paused = tenant.client.put(f"/update-post/{group_id}", json={"status": "draft"})
    assert paused.status_code == 200
    other = _create(tenant, scheduledTime=iso_in(seconds=3.2))
    post_when(tenant, other, "published")
    assert tenant.client.get(f"/get-post/{group_id}").json()["status"] == "draft"
    assert sandbox.get("/_sim/stats").json()["posts"] == 1


def test_a_long_text_is_published_as_a_reply_chain(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    content = " ".join(f"Sentence {i} carries enough words to fill a thread." for i in range(25))
    group_id = _create(tenant, content=content)
    body = post_when(tenant, group_id, "published")
    parts = body["posts"][0]["threadParts"]
    assert len(parts) >= 3
    sim_posts = sandbox.get("/_sim/posts").json()["posts"]
    assert [p["text"] for p in sim_posts] == [part["content"] for part in parts]
    assert sim_posts[0]["replyTo"] is None
    for previous, reply in itertools.pairwise(sim_posts):
        assert reply["replyTo"] == previous["id"]
    assert [p["publishedId"] for p in parts] == [p["id"] for p in sim_posts]
    assert all(p["status"] == "published" for p in parts)
    assert body["posts"][0]["postedId"] == sim_posts[0]["id"]
    assert target_rows(server, group_id)[0].progress["partIds"] == [p["id"] for p in sim_posts]


def test_every_target_of_a_group_is_published_once(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    from support import add_sandbox_connection

    second = add_sandbox_connection(server, tenant.account_id)
    groups = [_create(tenant, platforms=[tenant.platform_id, second]) for _ in range(20)]
    for group_id in groups:
        post_when(tenant, group_id, "published")
    stats = sandbox.get("/_sim/stats").json()
    assert (stats["posts"], stats["duplicates"]) == (40, 0)


def test_metrics_and_health_report_the_engine(
    server: LiveServer, engine: Engine, tenant: Tenant
) -> None:
    post_when(tenant, _create(tenant), "published")
    text = httpx.get(server.base_url + "/metrics").text
    assert 'herald_targets{state="published"} 1' in text
    assert "herald_start_lateness_seconds_count 1" in text
    assert "herald_publish_lateness_seconds_count 1" in text
    assert 'herald_publish_outcomes_total{outcome="published"} 1' in text
    health = httpx.get(server.base_url + "/healthz").json()
    assert health["status"] == "ok"
    assert health["engine"] == "on"
    wait_until(lambda: engine.in_flight == 0)
