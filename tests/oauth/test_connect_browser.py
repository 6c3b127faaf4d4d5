"""Connecting X in a real Chromium: Herald's link, the simulator's consent page, back to Herald.

Approve ends on Herald's page listing the new connection (and the API lists it); Deny ends on
the page that says nothing was connected, with nothing stored."""

from __future__ import annotations

from playwright.async_api import Page

from browser_support import Chromium
from oauth_support import counts, link_for, x_app_on_sim
from support import LiveServer, Tenant
from x_support import ADA, BOB, XControl


def _click_through(chromium: Chromium, link: str, user_id: str, button: str) -> tuple[str, str]:
    async def scenario(page: Page) -> tuple[str, str]:
        await page.goto(link)
        await page.wait_for_selector("#approve")  # the platform's consent page
        assert "wants to access your X account" in await page.content()
        await page.select_option("#user_id", user_id)
        async with page.expect_navigation(url="**/connect/twitter/callback?**"):
            await page.click(button)
        heading = await page.inner_text("h1")
        return page.url, heading + "\n" + await page.inner_text("body")

    return chromium.run(scenario)


def test_approve_in_a_browser_connects_and_lists_the_account(
    chromium: Chromium, server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    with x_app_on_sim(server, x_sim):
        url, text = _click_through(chromium, link_for(tenant.client), BOB.id, "#approve")
    assert url.startswith(f"{server.base_url}/connect/twitter/callback?")
    assert text.startswith("Account connected")
    assert f"twitter-{BOB.id}" in text
    assert tenant.platform_id in text  # the account's other connections are listed too
    listed = tenant.client.get("/platform-connections").json()["connections"]
    assert f"twitter-{BOB.id}" in {c["platformId"] for c in listed}
    assert counts(server) == (1, 0)


def test_deny_in_a_browser_ends_on_the_error_page_with_nothing_stored(
    chromium: Chromium, server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    with x_app_on_sim(server, x_sim):
        url, text = _click_through(chromium, link_for(tenant.client), ADA.id, "#deny")
    assert "error=access_denied" in url
    assert text.startswith("X access was not allowed")
    assert "nothing was stored" in text
    listed = tenant.client.get("/platform-connections").json()["connections"]
    assert [c["platformId"] for c in listed] == [tenant.platform_id]
    assert counts(server) == (0, 0)
