"""The connect flow's edges over real HTTP, on both databases: who gets a link, what a link
and a state are worth, and the pages that end a failed connection with nothing stored.
The whole flow against the X simulator is in tests/oauth/."""

from __future__ import annotations

import httpx

from oauth_support import callback, counts, query_of, start_connect, x_app
from sim_support import closed_port
from support import LiveServer, Tenant


def _link(tenant: Tenant) -> str:
    answer = tenant.client.post("/platform-connections", json={"platform": "twitter"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True
    assert body["platform"] == "twitter"
    assert "tokenExpiresAt" in body
    assert body["url"].startswith(tenant.client.base_url.scheme + "://")
    return str(body["url"])


def test_without_an_x_app_every_way_in_says_what_to_set(server: LiveServer, tenant: Tenant) -> None:
    answer = tenant.client.post("/platform-connections", json={"platform": "twitter"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "PLATFORM_NOT_CONFIGURED"
    assert "HERALD_X_CLIENT_ID" in answer.json()["message"]
    with x_app(server, "http://127.0.0.1:1"):
        link = _link(tenant)
    page = httpx.get(link, timeout=10)
    assert page.status_code == 503
    assert "HERALD_X_CLIENT_ID" in page.text
    assert f"{server.base_url}/connect/twitter/callback" in page.text


def test_the_link_redirects_to_consent_with_a_state_and_pkce(
    server: LiveServer, tenant: Tenant
) -> None:
    with x_app(server, "http://127.0.0.1:1", "https://x.example/i/oauth2/authorize"):
        consent = start_connect(server, _link(tenant))
    assert consent.startswith("https://x.example/i/oauth2/authorize?")
    query = query_of(consent)
    assert query["redirect_uri"] == f"{server.base_url}/connect/twitter/callback"
    assert query["code_challenge_method"] == "S256"
    assert query["client_id"] == "herald-test-client"
    assert "offline.access" in query["scope"].split()
    assert counts(server) == (0, 1)


def test_a_changed_or_foreign_link_is_refused(server: LiveServer, tenant: Tenant) -> None:
    with x_app(server, "http://127.0.0.1:1"):
        link = _link(tenant)
        page = httpx.get(link[:-3] + "AAA", timeout=10)
        assert page.status_code == 400
        assert "not valid" in page.text
        assert "herald connections connect x" in page.text
        # A platform connected without OAuth has no connect route for the link to open.
        mastodon = httpx.get(link.replace("/connect/twitter", "/connect/mastodon"), timeout=10)
        assert mastodon.status_code == 404
    assert counts(server) == (0, 0)


def test_denied_consent_stores_nothing_and_the_state_works_once(
    server: LiveServer, tenant: Tenant
) -> None:
    with x_app(server, "http://127.0.0.1:1"):
        state = query_of(start_connect(server, _link(tenant)))["state"]
        denied = callback(server, error="access_denied", state=state)
        assert denied.status_code == 400
        assert "access was not allowed" in denied.text
        assert "nothing was stored" in denied.text
        assert denied.headers["referrer-policy"] == "no-referrer"
        assert denied.headers["cache-control"] == "no-store"
        again = callback(server, code="whatever", state=state)
        assert again.status_code == 400
        assert "already used" in again.text
    assert counts(server) == (0, 0)


def test_a_forged_or_missing_state_is_refused(server: LiveServer, tenant: Tenant) -> None:
    with x_app(server, "http://127.0.0.1:1"):
        state = query_of(start_connect(server, _link(tenant)))["state"]
        body, mac = state.split(".")
        forged = callback(server, code="c", state=body[:-2] + "AA." + mac)
        missing = callback(server, code="c")
        script = callback(server, code="c", state="<script>alert(1)</script>")
    for page in (forged, missing, script):
        assert page.status_code == 400
        assert "cannot be checked" in page.text
        assert "<script>alert" not in page.text
    assert counts(server) == (0, 1)  # the genuine state is still waiting


def test_an_expired_state_is_refused(server: LiveServer, tenant: Tenant) -> None:
    with x_app(server, "http://127.0.0.1:1", oauth_state_seconds=0.001):
        state = query_of(start_connect(server, _link(tenant)))["state"]
        page = callback(server, code="c", state=state)
    assert page.status_code == 400
    assert "took too long" in page.text
    assert counts(server)[0] == 0


def test_an_unreachable_token_endpoint_ends_on_the_exchange_page(
    server: LiveServer, tenant: Tenant
) -> None:
    with x_app(server, f"http://127.0.0.1:{closed_port()}"):
        state = query_of(start_connect(server, _link(tenant)))["state"]
        page = callback(server, code="the-code", state=state)
    assert page.status_code == 502
    assert "could not exchange the approval" in page.text
    assert "the-code" not in page.text
    assert counts(server) == (0, 0)
