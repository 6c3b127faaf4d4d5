"""Connecting Facebook Pages, the Instagram accounts linked to them, and a Threads profile
through the Meta simulator over real HTTP: one Facebook login brings each Page (and each
linked Instagram account) as a connection with a Page token; Threads keeps a 60-day token and
renews it with itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from herald.domain.timestamps import utc_now
from herald.models import Connection
from herald.oauth.refresher import TokenKeeper
from meta_support import IG_ID, PAGE, THREADS_ID, MetaControl, meta_sim, meta_sim_url
from oauth_support import start_connect
from sim_support import platform_client
from support import LiveServer, Tenant

__all__ = ["meta_sim", "meta_sim_url"]


@contextmanager
def meta_apps(server: LiveServer, sim: MetaControl) -> Iterator[None]:
    """The simulator's app in the server's settings for Facebook, Instagram and Threads, with
    this server's callbacks registered on the simulator."""
    sim.configure(
        redirect_uris=[
            f"{server.base_url}/connect/{p}/callback" for p in ("facebook", "instagram", "threads")
        ]
    )
    saved = server.context.settings
    server.context.settings = saved.model_copy(
        update={
            "meta_client_id": "herald-sim-app",
            "meta_client_secret": SecretStr("herald-sim-secret"),
            "meta_api_url": sim.base_url,
            "meta_authorize_url": sim.base_url,
            "threads_client_id": "herald-sim-app",
            "threads_client_secret": SecretStr("herald-sim-secret"),
            "threads_api_url": sim.base_url,
            "threads_authorize_url": sim.base_url,
        }
    )
    try:
        yield
    finally:
        server.context.settings = saved


def connect(server: LiveServer, tenant: Tenant, sim: MetaControl, platform: str) -> httpx.Response:
    """Link, the simulator's login page answered as the demo user, then Herald's callback."""
    link = tenant.client.post("/platform-connections", json={"platform": platform})
    assert link.status_code == 200, link.text
    consent = start_connect(server, link.json()["url"])
    path = consent.removeprefix(sim.base_url)
    page = sim.http.get(path)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    answer = sim.http.post(
        path.split("?")[0], data={**fields, "user_id": "10000000000001", "decision": "approve"}
    )
    assert answer.status_code == 302, answer.text
    back = answer.headers["location"]
    assert back.startswith(f"{server.base_url}/connect/{platform}/callback?"), back
    with httpx.Client(timeout=30) as browser:
        return browser.get(back.replace("&amp;", "&"))


def stored(server: LiveServer, platform: str, external_id: str) -> Connection:
    async def work(session: Any) -> Connection:
        found = await session.scalar(
            select(Connection).where(
                Connection.platform == platform, Connection.external_id == external_id
            )
        )
        assert found is not None
        return found

    return server.transaction(work)


def test_facebook_login_connects_each_page_and_its_instagram_account(
    server: LiveServer, tenant: Tenant, meta_sim: MetaControl
) -> None:
    with meta_apps(server, meta_sim):
        page = connect(server, tenant, meta_sim, "facebook")
        assert page.status_code == 200, page.text
        assert f"facebook-{PAGE.id}" in page.text
        instagram = connect(server, tenant, meta_sim, "instagram")
        assert instagram.status_code == 200, instagram.text
        assert f"instagram-{IG_ID}" in instagram.text
    listed = {
        c["platformId"]: c for c in tenant.client.get("/platform-connections").json()["connections"]
    }
    assert listed[f"facebook-{PAGE.id}"]["username"] == PAGE.name
    assert listed[f"instagram-{IG_ID}"]["username"] == "@herald_sim"
    for public_id in (f"facebook-{PAGE.id}", f"instagram-{IG_ID}"):
        assert listed[public_id]["accessTokenExpiresAt"] is None  # a Page token does not expire
    facebook = stored(server, "facebook", PAGE.id)
    credentials = server.context.secret_box.open(facebook.credentials or b"")
    assert credentials["accessToken"].startswith("EAAP")  # the Page's token, not the user's
    assert credentials["refreshToken"] is None
    assert facebook.refresh_at is None
    assert meta_sim.stats()["token_exchanges"] == 4  # code and long-lived, for each login


def test_threads_login_keeps_a_long_lived_token_and_renews_it(
    server: LiveServer, tenant: Tenant, meta_sim: MetaControl
) -> None:
    with meta_apps(server, meta_sim):
        page = connect(server, tenant, meta_sim, "threads")
        assert page.status_code == 200, page.text
        connection = stored(server, "threads", THREADS_ID)
        credentials = server.context.secret_box.open(connection.credentials or b"")
        assert credentials["refreshToken"] is None
        expires = connection.access_token_expires_at
        assert expires is not None
        assert expires > utc_now() + timedelta(days=59)
        assert connection.refresh_at is not None
        assert abs(connection.refresh_at - (expires - timedelta(days=7))) < timedelta(seconds=5)

        async def renew(stale: dict[str, Any]) -> dict[str, Any]:
            async with platform_client() as http:
                keeper = TokenKeeper(
                    server.context.sessions,
                    server.context.secret_box,
                    server.context.settings,
                    http,
                )
                return await keeper.fresh(connection.id, stale, "refused")

        meta_sim.http.post("/_sim/age-tokens", json={"seconds": 2 * 86400}).raise_for_status()
        renewed = server.run(renew(credentials))
    assert renewed["accessToken"] != credentials["accessToken"]
    assert meta_sim.stats()["refreshes"] == 1
    me = meta_sim.graph("GET", "/v1.0/me", renewed["accessToken"], params={"fields": "id"})
    assert me.json()["id"] == THREADS_ID
    assert stored(server, "threads", THREADS_ID).status == "active"
