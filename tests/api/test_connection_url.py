"""POST /workspace/users/:userId/connection-url (publora-latest §2.19 and §6 item 24, Publora's
workspace guide and OpenAPI): get or generate, `rotate`, `expiresInDays`; the link opens
Herald's connections page, where a managed user connects credential platforms. The page is
driven in a real Chromium against the platforms' simulators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from browser_support import Chromium
from herald.domain.timestamps import parse_timestamp, utc_now
from herald.sim.bluesky import create_bluesky_app
from herald.sim.bluesky_config import DEMO_ACCOUNT
from herald.sim.mastodon import create_mastodon_app
from herald.sim.mastodon_config import DEFAULT_ACCOUNT
from sim_support import serve_in_thread
from support import LiveServer, Tenant, error_body


@pytest.fixture(scope="module")
def instance() -> Iterator[str]:
    with serve_in_thread(create_mastodon_app()) as base:
        yield base


@pytest.fixture(scope="module")
def pds() -> Iterator[str]:
    with serve_in_thread(create_bluesky_app()) as base:
        yield base


def _user(tenant: Tenant, email: str = "ada@example.com") -> str:
    response = tenant.client.post("/workspace/users", json={"username": email})
    assert response.status_code == 201, response.text
    return str(response.json()["user"]["_id"])


def _link(tenant: Tenant, user_id: str, **body: Any) -> httpx.Response:
    return tenant.client.post(f"/workspace/users/{user_id}/connection-url", json=body or None)


def test_get_or_generate_then_rotate(server: LiveServer, tenant: Tenant) -> None:
    user_id = _user(tenant)
    before = utc_now()
    first = _link(tenant, user_id)
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"url", "tokenExpiresAt"}
    assert body["url"].startswith(server.base_url + "/connections-page/")
    expires = parse_timestamp(body["tokenExpiresAt"])
    assert before + timedelta(days=90) - timedelta(seconds=2) <= expires
    assert expires <= utc_now() + timedelta(days=90)
    # Without rotate: the same link, whatever expiry is asked for.
    assert _link(tenant, user_id, expiresInDays=5).json() == body
    listed = tenant.client.get("/workspace/users").json()["users"][0]
    assert listed["connectionsPageUrl"] == body["url"]
    assert listed["connectionsPageTokenExpiresAt"] == body["tokenExpiresAt"]
    rotated = _link(tenant, user_id, rotate=True, expiresInDays=30).json()
    assert rotated["url"] != body["url"]
    assert parse_timestamp(rotated["tokenExpiresAt"]) <= utc_now() + timedelta(days=30)
    assert httpx.get(rotated["url"]).status_code == 200
    old = httpx.get(body["url"])
    assert old.status_code == 404  # rotation invalidates the old link at once
    assert "not valid" in old.text


def test_refusals(tenant: Tenant, new_tenant: Callable[..., Tenant]) -> None:
    user_id = _user(tenant)
    for bad in ({"expiresInDays": 0}, {"expiresInDays": "30"}, {"rotate": "yes"}):
        response = _link(tenant, user_id, **bad)
        assert response.status_code == 400, bad
    other = new_tenant("Other")
    for client, target in ((other.client, user_id), (tenant.client, "not-an-id")):
        response = client.post(f"/workspace/users/{target}/connection-url")
        assert response.status_code == 404
        assert response.json() == error_body(
            "User not found or not managed by this key", "USER_NOT_FOUND"
        )
    solo = new_tenant("Solo", workspace=False)
    refused = solo.client.post(f"/workspace/users/{user_id}/connection-url")
    assert refused.status_code == 403
    assert refused.json()["error"] == "Workspace access is not enabled for this key"


def test_a_forged_or_altered_link_opens_nothing(server: LiveServer, tenant: Tenant) -> None:
    url = _link(tenant, _user(tenant)).json()["url"]
    token = url.rsplit("/", 1)[1]
    body, mac = token.split(".")
    for forged in (body + "." + mac[::-1], "x" * 40, body, "a.b"):
        response = httpx.get(f"{server.base_url}/connections-page/{forged}")
        assert response.status_code == 404
    page = httpx.get(url)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_form_posts_once(server: LiveServer, tenant: Tenant, instance: str) -> None:
    user_id = _user(tenant)
    url = _link(tenant, user_id).json()["url"]
    page = httpx.get(url).text
    nonce = page.split('name="form" value="', 1)[1].split('"', 1)[0]
    fields = {
        "form": nonce,
        "platform": "mastodon",
        "instanceUrl": instance,
        "accessToken": DEFAULT_ACCOUNT.token,
    }
    first = httpx.post(url, data=fields)
    assert first.status_code == 200
    assert "Connected mastodon" in first.text
    replay = httpx.post(url, data=fields)
    assert "already sent" in replay.text
    without = httpx.post(url, data={**fields, "form": ""})
    assert "already sent" in without.text
    as_user = {"x-publora-user-id": user_id}
    connections = tenant.client.get("/platform-connections", headers=as_user).json()
    assert [c["platform"] for c in connections["connections"]] == ["mastodon"]
    assert DEFAULT_ACCOUNT.token not in first.text
    # The workspace owner's own connections are not the user's.
    assert [
        c["platformId"] for c in tenant.client.get("/platform-connections").json()["connections"]
    ] == [tenant.platform_id]


def test_a_managed_user_connects_in_a_browser(
    chromium: Chromium, tenant: Tenant, instance: str, pds: str
) -> None:
    user_id = _user(tenant)
    url = _link(tenant, user_id).json()["url"]

    async def scenario(page: Page) -> list[str]:
        await page.goto(url)
        assert "Connect accounts for ada@example.com" in await page.content()
        form = page.locator("#connect-bluesky")
        await form.locator("input[name=handle]").fill(DEMO_ACCOUNT.handle)
        await form.locator("input[name=appPassword]").fill("wrong-password-here")
        await form.locator("input[name=pdsUrl]").fill(pds)
        await form.locator("button").click()
        await page.wait_for_selector("#notice.error")
        assert "wrong-password-here" not in await page.content()
        form = page.locator("#connect-bluesky")  # the page came back with a fresh form
        await form.locator("input[name=handle]").fill(DEMO_ACCOUNT.handle)
        await form.locator("input[name=appPassword]").fill(DEMO_ACCOUNT.app_password)
        await form.locator("input[name=pdsUrl]").fill(pds)
        await form.locator("button").click()
        await page.wait_for_selector("#notice.ok")
        form = page.locator("#connect-mastodon")
        await form.locator("input[name=instanceUrl]").fill(instance)
        await form.locator("input[name=accessToken]").fill(DEFAULT_ACCOUNT.token)
        await form.locator("button").click()
        await page.wait_for_selector("#notice.ok")
        assert DEFAULT_ACCOUNT.token not in await page.content()
        assert DEMO_ACCOUNT.app_password not in await page.content()
        items = page.locator("#accounts li")
        return [
            str(await items.nth(i).get_attribute("data-platform-id"))
            for i in range(await items.count())
        ]

    listed = chromium.run(scenario)
    as_user = {"x-publora-user-id": user_id}
    stored = tenant.client.get("/platform-connections", headers=as_user).json()["connections"]
    assert sorted(listed) == sorted(c["platformId"] for c in stored)
    assert sorted(c["platform"] for c in stored) == ["bluesky", "mastodon"]


def test_an_expired_link_is_refused(server: LiveServer, tenant: Tenant) -> None:
    from sqlalchemy import update

    from herald.models import ConnectionsPage

    user_id = _user(tenant)
    url = _link(tenant, user_id).json()["url"]

    async def expire(session: Any) -> None:
        await session.execute(
            update(ConnectionsPage).values(expires_at=utc_now() - timedelta(seconds=1))
        )

    server.transaction(expire)
    assert httpx.get(url).status_code == 404
    listed = tenant.client.get("/workspace/users").json()["users"][0]
    assert listed["connectionsPageUrl"] is None
    fresh = _link(tenant, user_id).json()["url"]  # an expired link is replaced, not given back
    assert fresh != url
    assert httpx.get(fresh).status_code == 200
