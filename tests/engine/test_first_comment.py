"""First comments (publora-latest §5.5) published by the engine after the post, against the
simulators over loopback: a reply by the same account, its own state in get-post, logged as an
attempt, looked up when in doubt, never a second post."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from herald.engine.dispatcher import Engine
from herald.sim.bluesky import create_bluesky_app
from herald.sim.bluesky_config import DEMO_ACCOUNT
from herald.sim.mastodon import create_mastodon_app
from herald.sim.mastodon_config import DEFAULT_ACCOUNT
from sim_support import serve_in_thread
from support import LiveServer, Tenant, connect_account, create_post, post_when, wait_until


def _attempts(server: LiveServer, group_id: str) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from herald.models import PublishAttempt, PublishTarget

    async def read(session: Any) -> list[tuple[int, str]]:
        query = (
            select(PublishAttempt.part, PublishAttempt.outcome)
            .join(PublishTarget, PublishTarget.id == PublishAttempt.target_id)
            .where(PublishTarget.post_group_id == group_id)
            .order_by(PublishAttempt.at, PublishAttempt.part)
        )
        return [(row.part, row.outcome) for row in await session.execute(query)]

    return server.transaction(read)


def _comment_result(tenant: Tenant, group_id: str) -> dict[str, Any]:
    def settled() -> dict[str, Any] | None:
        post = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
        result = post["firstCommentResult"]
        return result if result and result["status"] != "pending" else None

    return wait_until(settled)


def _script(sandbox: httpx.Client, *faults: str) -> None:
    sandbox.post("/_sim/script", json={"faults": list(faults)}).raise_for_status()


def test_the_comment_replies_to_the_post_once_it_is_out(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    group_id = create_post(tenant, firstComment={"text": "  Sources: example.com  "})
    post_when(tenant, group_id, "published")
    result = _comment_result(tenant, group_id)
    post, reply = sandbox.get("/_sim/posts").json()["posts"]
    assert (reply["text"], reply["replyTo"]) == ("Sources: example.com", post["id"])
    assert result["status"] == "posted"
    assert result["commentId"] == reply["id"]
    assert result["error"] is None
    assert result["attemptedAt"] <= result["postedAt"]
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert got["status"] == "published"
    assert got["posts"][0]["postedId"] == post["id"]
    assert _attempts(server, group_id) == [(0, "published"), (1, "comment_posted")]


def test_a_refused_comment_leaves_the_post_published(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    _script(sandbox, "ok", "rejected")
    group_id = create_post(tenant, firstComment={"text": "Refused"})
    post_when(tenant, group_id, "published")
    result = _comment_result(tenant, group_id)
    assert result["status"] == "failed"
    assert result["commentId"] is None
    assert result["error"]["outcomeUnknown"] is False
    assert result["error"]["code"]
    assert tenant.client.get(f"/get-post/{group_id}").json()["status"] == "published"
    assert len(sandbox.get("/_sim/posts").json()["posts"]) == 1
    assert _attempts(server, group_id) == [(0, "published"), (1, "comment_failed")]


def test_a_comment_in_doubt_is_looked_up_not_sent_again(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    _script(sandbox, "ok", "lost_response")
    group_id = create_post(tenant, firstComment={"text": "Lost answer"})
    post_when(tenant, group_id, "published")
    result = _comment_result(tenant, group_id)
    posts = sandbox.get("/_sim/posts").json()["posts"]
    assert [p["text"] for p in posts] == ["Hello from Herald", "Lost answer"]
    assert result["status"] == "posted"
    assert result["commentId"] == posts[1]["id"]
    assert sandbox.get("/_sim/stats").json()["duplicates"] == 0


def test_a_thread_gets_its_comment_on_the_first_part(
    engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    content = " ".join(f"Sentence {i} carries enough words to fill a thread." for i in range(20))
    group_id = create_post(tenant, content=content, firstComment={"text": "The end"})
    post_when(tenant, group_id, "published")
    assert _comment_result(tenant, group_id)["status"] == "posted"
    posts = sandbox.get("/_sim/posts").json()["posts"]
    assert posts[-1]["text"] == "The end"
    assert posts[-1]["replyTo"] == posts[0]["id"]


def test_no_comment_where_it_does_not_apply(
    engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    group_id = create_post(
        tenant, firstComment={"text": "Only Mastodon", "platforms": ["mastodon"]}
    )
    body = post_when(tenant, group_id, "published")
    assert body["posts"][0]["firstCommentResult"] is None
    assert len(sandbox.get("/_sim/posts").json()["posts"]) == 1


@pytest.fixture
def networks() -> Iterator[dict[str, str]]:
    with (
        serve_in_thread(create_bluesky_app()) as bluesky,
        serve_in_thread(create_mastodon_app()) as mastodon,
    ):
        yield {"bluesky": bluesky, "mastodon": mastodon}


def test_bluesky_and_mastodon_get_their_comment_as_a_reply(
    engine: Engine, tenant: Tenant, networks: dict[str, str]
) -> None:
    bluesky = connect_account(
        tenant,
        platform="bluesky",
        handle=DEMO_ACCOUNT.handle,
        appPassword=DEMO_ACCOUNT.app_password,
        pdsUrl=networks["bluesky"],
    )
    mastodon = connect_account(
        tenant,
        platform="mastodon",
        instanceUrl=networks["mastodon"],
        accessToken=DEFAULT_ACCOUNT.token,
    )
    group_id = create_post(
        tenant, platforms=[bluesky, mastodon], firstComment={"text": "First comment here"}
    )
    body = post_when(tenant, group_id, "published", timeout=30)

    def both() -> list[dict[str, Any]] | None:
        posts = tenant.client.get(f"/get-post/{group_id}").json()["posts"]
        results = [p["firstCommentResult"] for p in posts]
        return results if all(r and r["status"] == "posted" for r in results) else None

    results = dict(zip([p["platform"] for p in body["posts"]], wait_until(both), strict=True))
    root, reply = httpx.get(f"{networks['bluesky']}/_sim/records").json()["records"]
    assert reply["value"]["text"] == "First comment here"
    assert reply["value"]["reply"] == {
        "root": {"uri": root["uri"], "cid": root["cid"]},
        "parent": {"uri": root["uri"], "cid": root["cid"]},
    }
    assert results["bluesky"]["commentId"] == reply["uri"]
    status, comment = httpx.get(f"{networks['mastodon']}/_sim/statuses").json()["statuses"]
    assert (comment["in_reply_to_id"], results["mastodon"]["commentId"]) == (
        status["id"],
        comment["id"],
    )
    assert status["idempotency_key"] != comment["idempotency_key"]


def test_a_post_confirmed_by_the_reconciler_gets_its_comment_once(
    server: LiveServer, engine: Engine, tenant: Tenant, sandbox: httpx.Client
) -> None:
    """The post's answer is lost: the reconciler finds the post, and only then is the comment
    sent (the post itself is never sent twice)."""
    _script(sandbox, "lost_response")
    group_id = create_post(tenant, firstComment={"text": "After the doubt"})
    post_when(tenant, group_id, "published", timeout=30)
    result = _comment_result(tenant, group_id)
    posts = sandbox.get("/_sim/posts").json()["posts"]
    assert [p["text"] for p in posts] == ["Hello from Herald", "After the doubt"]
    assert (result["status"], result["commentId"]) == ("posted", posts[1]["id"])
    assert sandbox.get("/_sim/stats").json()["duplicates"] == 0
    attempts = _attempts(server, group_id)
    assert (0, "in_doubt") in attempts  # the post went through the reconciler
    assert attempts[-1] == (1, "comment_posted")
