"""Helpers for the OAuth connect tests: an X app in the live server's settings, following the
connect link by hand, and reading what the database holds."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from herald.config import Settings
from herald.domain.platform import Platform
from herald.domain.timestamps import utc_now
from herald.models import Connection, OAuthState
from herald.oauth.token_endpoint import TokenSet
from herald.platforms.base import Profile
from support import LiveServer


@contextmanager
def x_app(
    server: LiveServer, api_url: str, authorize_url: str | None = None, **extra: Any
) -> Iterator[None]:
    """The live server with an X app registered in its settings for the block."""
    saved = server.context.settings
    if isinstance(extra.get("x_client_secret"), str):  # model_copy does not validate
        extra["x_client_secret"] = SecretStr(extra["x_client_secret"])
    server.context.settings = saved.model_copy(
        update={
            "x_client_id": "herald-test-client",
            "x_api_url": api_url,
            "x_authorize_url": authorize_url or f"{api_url}/i/oauth2/authorize",
            **extra,
        }
    )
    try:
        yield
    finally:
        server.context.settings = saved


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start_connect(server: LiveServer, link: str) -> str:
    """Open a connect link without a browser; the consent page URL Herald redirects to."""
    with httpx.Client(timeout=10) as browser:
        answer = browser.get(link, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def callback(server: LiveServer, **params: str) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:
        return browser.get("/connect/twitter/callback", params=params)


def counts(server: LiveServer) -> tuple[int, int]:
    """(X connections, pending states) in the database."""

    async def work(session: Any) -> tuple[int, int]:
        x = await session.scalar(select(func.count()).where(Connection.platform == "twitter"))
        pending = await session.scalar(select(func.count()).select_from(OAuthState))
        return int(x or 0), int(pending or 0)

    return server.transaction(work)


OAUTH_CLIENT_ID = "herald-oauth-test"
OAUTH_CLIENT_SECRET = "oauth-test-secret-51c2"


@contextmanager
def x_app_on_sim(
    server: LiveServer, sim: Any, *, secret: str | None = OAUTH_CLIENT_SECRET, **extra: Any
) -> Iterator[None]:
    """An X app registered on the simulator with this server's callback, and in its settings;
    without a secret it is a public client."""
    registered = {"client_secret": secret} if secret else {}
    sim.add_app(
        OAUTH_CLIENT_ID,
        [f"{server.base_url}/connect/twitter/callback"],
        name="Herald OAuth Test",
        **registered,
    )
    with x_app(server, sim.base_url, x_client_id=OAUTH_CLIENT_ID, x_client_secret=secret, **extra):
        yield


def link_for(client: httpx.Client) -> str:
    answer = client.post("/platform-connections", json={"platform": "twitter"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["url"])


def consent_by_hand(sim: Any, consent_url: str, user_id: str, decision: str = "approve") -> str:
    """Answer the simulator's consent page as a browser would; the redirect back to Herald."""
    path = consent_url.removeprefix(sim.base_url)
    page = sim.http.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="request_id" value="([^"]+)"', page.text)
    assert found is not None, page.text
    form = {"request_id": found.group(1), "decision": decision, "user_id": user_id}
    answer = sim.http.post("/i/oauth2/authorize", data=form)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def connect_by_hand(
    server: LiveServer, client: httpx.Client, sim: Any, user_id: str, decision: str = "approve"
) -> httpx.Response:
    """The whole flow without a browser: link, consent, callback; Herald's final page."""
    back = consent_by_hand(sim, start_connect(server, link_for(client)), user_id, decision)
    assert back.startswith(f"{server.base_url}/connect/twitter/callback?"), back
    with httpx.Client(timeout=30) as browser:
        return browser.get(back)


def stored_connection(server: LiveServer, external_id: str) -> Connection:
    async def work(session: Any) -> Connection:
        found = await session.scalar(
            select(Connection).where(
                Connection.platform == "twitter", Connection.external_id == external_id
            )
        )
        assert found is not None
        return found

    return server.transaction(work)


def credentials_of(server: LiveServer, external_id: str) -> dict[str, Any]:
    sealed = stored_connection(server, external_id).credentials
    assert sealed is not None
    return server.context.secret_box.open(sealed)


def x_settings(server: LiveServer, sim: Any, **overrides: Any) -> Settings:
    """The server's settings with the test X app on the simulator and a quick engine."""
    return server.settings.model_copy(
        update={
            "x_client_id": OAUTH_CLIENT_ID,
            "x_client_secret": SecretStr(OAUTH_CLIENT_SECRET),
            "x_api_url": sim.base_url,
            "x_authorize_url": f"{sim.base_url}/i/oauth2/authorize",
            "engine_lease_seconds": 5.0,
            "engine_rescue_interval_seconds": 0.2,
            "engine_reconcile_interval_seconds": 0.2,
            "engine_settle_seconds": 0.0,
            "engine_http_timeout_seconds": 5.0,
            "webhook_poll_seconds": 0.1,
            "webhook_retry_base_seconds": 0.2,
            **overrides,
        }
    )


def connect_minted(
    server: LiveServer, tenant_account: str, sim: Any, user: Any, settings: Settings, **mint: Any
) -> str:
    """An X connection stored the way the callback stores one, from tokens the simulator minted
    for the test app (so Herald can renew them): verified with X, saved by the OAuth service."""
    from herald.oauth.lifecycle import save_oauth_connection
    from herald.oauth.providers import oauth_app
    from herald.platforms.registry import connector_for
    from sim_support import UNHELD_CALL_TIMEOUT_S, platform_client

    minted = sim.mint(user, client_id=OAUTH_CLIENT_ID, **mint)
    tokens = TokenSet(
        minted["access_token"],
        minted.get("refresh_token"),
        utc_now() + timedelta(seconds=minted["expires_in"]),
        minted["scope"],
    )
    app = oauth_app("x", settings)
    connector = connector_for(Platform.TWITTER)
    assert connector is not None

    async def verify() -> Profile:
        async with platform_client(UNHELD_CALL_TIMEOUT_S) as http:
            return await connector.verify(http, tokens.credentials(), {"apiUrl": app.api_url})

    profile = asyncio.run(verify())

    async def save(session: Any) -> str:
        saved = await save_oauth_connection(
            session, server.context.secret_box, tenant_account, app, tokens, profile
        )
        return f"twitter-{saved.external_id}"

    return server.transaction(save)
