"""Connecting an X account through the X simulator over real HTTP, on both databases: approve
stores a connection, reconnecting updates it, and every failure stores nothing."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import httpx
import pytest

from oauth_support import (
    callback,
    connect_by_hand,
    consent_by_hand,
    counts,
    credentials_of,
    link_for,
    query_of,
    start_connect,
    stored_connection,
    x_app_on_sim,
)
from support import LiveServer, Tenant
from x_support import ADA, BOB, XControl


def test_approve_connects_the_account_and_lists_it(
    server: LiveServer, tenant: Tenant, x_sim: XControl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with x_app_on_sim(server, x_sim):
        page = connect_by_hand(server, tenant.client, x_sim, ADA.id)
    assert page.status_code == 200, page.text
    assert "Account connected" in page.text
    assert f"twitter-{ADA.id}" in page.text
    listed = tenant.client.get("/platform-connections").json()["connections"]
    x = next(c for c in listed if c["platform"] == "twitter")
    assert x["platformId"] == f"twitter-{ADA.id}"
    assert x["username"] == "@ada"
    assert x["displayName"] == ADA.name
    assert x["tokenStatus"] == "valid"
    assert x["accessTokenExpiresAt"] is None  # renewed by Herald: nothing for the owner to do
    assert x["tokenExpiresIn"] is None
    credentials = credentials_of(server, ADA.id)
    assert set(credentials) == {"accessToken", "refreshToken", "expiresAt", "scope"}
    assert "offline.access" in credentials["scope"].split()
    for secret in (credentials["accessToken"], credentials["refreshToken"]):
        assert secret not in page.text
        assert secret not in str(listed)
        assert secret not in caplog.text
    connection = stored_connection(server, ADA.id)
    assert connection.options["apiUrl"] == x_sim.base_url
    assert connection.refresh_at is not None
    assert counts(server) == (1, 0)  # the state is spent
    stats = x_sim.stats()
    assert stats["codes_exchanged"] == 1
    assert stats["me"] == 1


def test_the_code_exchange_uses_pkce_and_the_state_once(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    with x_app_on_sim(server, x_sim):
        back = consent_by_hand(x_sim, start_connect(server, link_for(tenant.client)), ADA.id)
        params = query_of(back)
        first = callback(server, **params)
        replay = callback(server, **params)
    assert first.status_code == 200
    assert replay.status_code == 400
    assert "already used" in replay.text
    assert x_sim.stats()["codes_exchanged"] == 1  # the replay never reached X
    assert counts(server) == (1, 0)


def test_deny_ends_on_a_page_and_stores_nothing(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    with x_app_on_sim(server, x_sim):
        page = connect_by_hand(server, tenant.client, x_sim, ADA.id, decision="deny")
    assert page.status_code == 400
    assert "X access was not allowed" in page.text
    assert "choose to authorize the app" in page.text
    assert counts(server) == (0, 0)
    assert x_sim.stats()["codes_issued"] == 0


def test_a_refused_code_exchange_stores_nothing(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    with x_app_on_sim(server, x_sim):
        back = consent_by_hand(x_sim, start_connect(server, link_for(tenant.client)), ADA.id)
        params = query_of(back)
        page = callback(server, **{**params, "code": params["code"] + "x"})
    assert page.status_code == 502
    assert "could not exchange the approval" in page.text
    assert "invalid_request" in page.text
    assert counts(server) == (0, 0)


def test_a_profile_error_stores_nothing(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    with x_app_on_sim(server, x_sim):
        back = consent_by_hand(x_sim, start_connect(server, link_for(tenant.client)), ADA.id)
        # X's read window is used up: the code exchange works, the profile read gets a 429.
        x_sim.configure(reads_per_window=1)
        assert x_sim.api("GET", "/2/users/me", x_sim.token(ADA)).status_code == 200
        page = callback(server, **query_of(back))
    assert page.status_code == 502, page.text
    assert "did not share the account's profile" in page.text
    assert x_sim.stats()["codes_exchanged"] == 1
    assert x_sim.stats()["rate_limited"] >= 1
    assert counts(server) == (0, 0)


def test_reconnecting_updates_the_connection_and_lifts_needs_reauth(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    with x_app_on_sim(server, x_sim):
        assert connect_by_hand(server, tenant.client, x_sim, BOB.id).status_code == 200
        first = credentials_of(server, BOB.id)
        _flag_needs_reauth(server, BOB.id)
        status = _listed(tenant, BOB.id)
        assert status["tokenStatus"] == "expired"
        assert connect_by_hand(server, tenant.client, x_sim, BOB.id).status_code == 200
    second = credentials_of(server, BOB.id)
    assert second["accessToken"] != first["accessToken"]
    assert _listed(tenant, BOB.id)["tokenStatus"] == "valid"
    assert stored_connection(server, BOB.id).status == "active"
    assert counts(server) == (1, 0)


def _listed(tenant: Tenant, external_id: str) -> dict[str, Any]:
    listed = tenant.client.get("/platform-connections").json()["connections"]
    return next(c for c in listed if c["platformId"] == f"twitter-{external_id}")


def _flag_needs_reauth(server: LiveServer, external_id: str) -> None:
    from sqlalchemy import update

    from herald.models import Connection

    async def work(session: Any) -> None:
        await session.execute(
            update(Connection)
            .where(Connection.external_id == external_id)
            .values(status="needs_reauth")
        )

    server.transaction(work)


def test_a_public_client_sends_its_id_in_the_body(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    with x_app_on_sim(server, x_sim, secret=None):
        page = connect_by_hand(server, tenant.client, x_sim, BOB.id)
    assert page.status_code == 200, page.text
    assert counts(server) == (1, 0)
    assert x_sim.stats()["codes_exchanged"] == 1


def test_a_managed_users_connections_page_connects_x_for_that_user(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    # The workspace's connection-url page offers every OAuth platform that has an app, and its
    # link connects the account to the managed user, not to the workspace's owner.
    made = tenant.client.post("/workspace/users", json={"username": "grace@example.com"})
    assert made.status_code == 201, made.text
    user_id = made.json()["user"]["_id"]
    page_url = tenant.client.post(f"/workspace/users/{user_id}/connection-url").json()["url"]
    without_app = httpx.get(page_url, timeout=10)
    assert 'id="connect-twitter"' not in without_app.text  # no X app: nothing to offer
    with x_app_on_sim(server, x_sim):
        page = httpx.get(page_url, timeout=10)
        found = re.search(r'<a id="connect-twitter" href="([^"]+)"', page.text)
        assert found is not None, page.text
        link = html.unescape(found.group(1))
        back = consent_by_hand(x_sim, start_connect(server, link), BOB.id)
        with httpx.Client(timeout=30) as browser:
            done = browser.get(back)
    assert done.status_code == 200, done.text
    managed = {"x-publora-user-id": user_id}
    theirs = tenant.client.get("/platform-connections", headers=managed).json()["connections"]
    assert [c["platformId"] for c in theirs] == [f"twitter-{BOB.id}"]
    owners = tenant.client.get("/platform-connections").json()["connections"]
    assert f"twitter-{BOB.id}" not in [c["platformId"] for c in owners]
