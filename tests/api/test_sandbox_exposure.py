"""The sandbox simulator `herald serve` mounts, as anyone who can reach Herald sees it: no
control or listing routes unless the operator turns them on, and no tenant's posts for others."""

from __future__ import annotations

import httpx
import pytest

from herald.app import SANDBOX_PATH
from sim_support import SANDBOX_CONTROL_ROUTES
from support import LiveServer, create_post, make_tenant, post_when, running_engine


@pytest.mark.parametrize(("method", "path"), SANDBOX_CONTROL_ROUTES)
def test_the_control_routes_are_off_by_default(
    default_server: LiveServer, method: str, path: str
) -> None:
    body = {"faults": ["rejected"], "latency_ms": 5000} if method == "POST" else None
    url = default_server.base_url + SANDBOX_PATH + path
    assert httpx.request(method, url, json=body).status_code == 404


def test_a_tenant_s_sandbox_posts_are_not_shown_to_anyone_else(
    default_server: LiveServer,
) -> None:
    owner = make_tenant(default_server, "Owner")
    # As under `herald serve`, the engine publishes to the simulator the server mounts.
    sandbox = default_server.base_url + SANDBOX_PATH
    settings = default_server.settings.model_copy(update={"sandbox_url": sandbox})
    with running_engine(default_server, settings):
        group_id = create_post(owner, content="Only for the owner's eyes")
        post = post_when(owner, group_id, "published")["posts"][0]
    owner.client.close()
    with httpx.Client(base_url=sandbox) as anyone:
        assert anyone.get(f"/v1/posts/{post['postedId']}").status_code == 404
        assert anyone.get(f"/p/{post['postedId']}").status_code == 404
        account = owner.platform_id.removeprefix("sandbox-")
        assert anyone.get("/v1/posts", params={"account": account}).json() == {"posts": []}
        for guess in range(1, int(post["postedId"]) + 1):
            assert anyone.get(f"/v1/posts/{guess}").status_code == 404
    # The owner has the post's address, where its page is.
    assert "Only for the owner" in httpx.get(post["publishedUrl"]).text
