"""Connecting a YouTube channel and a TikTok account through their simulators' consent pages
over real HTTP: the shared connect flow with Google's and TikTok's provider entries."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from herald.models import Connection
from oauth_support import start_connect
from support import LiveServer, Tenant
from tiktok_support import OPEN_ID, TikTokControl, tiktok_sim, tiktok_sim_url
from youtube_support import CHANNEL_ID, YouTubeControl, youtube_sim, youtube_sim_url

__all__ = ["tiktok_sim", "tiktok_sim_url", "youtube_sim", "youtube_sim_url"]
SECRET = "video-oauth-secret-0042"


@contextlib.contextmanager
def app_in_settings(server: LiveServer, platform: str, sim: Any, client_id: str) -> Iterator[None]:
    """The live server with the platform's app (on the simulator) in its settings."""
    saved = server.context.settings
    names = {"youtube": "youtube_client_id", "tiktok": "tiktok_client_key"}
    server.context.settings = saved.model_copy(
        update={
            names[platform]: client_id,
            f"{platform}_client_secret": SecretStr(SECRET),
            f"{platform}_api_url": sim.base_url,
            f"{platform}_authorize_url": sim.base_url,
        }
    )
    try:
        yield
    finally:
        server.context.settings = saved


def _consent(sim: Any, consent_url: str) -> str:
    """Allow on the simulator's consent page as a browser would; the redirect back."""
    page = sim.http.get(consent_url.removeprefix(sim.base_url))
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    form = {k: v.replace("&amp;", "&") for k, v in form.items()}
    answer = sim.http.post(
        consent_url.removeprefix(sim.base_url).split("?")[0], data={**form, "decision": "allow"}
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def stored_credentials(server: LiveServer, platform: str, external_id: str) -> dict[str, Any]:
    async def work(session: Any) -> bytes:
        found = await session.scalar(
            select(Connection.credentials).where(
                Connection.platform == platform, Connection.external_id == external_id
            )
        )
        assert found is not None
        return bytes(found)

    opened: dict[str, Any] = server.context.secret_box.open(server.transaction(work))
    return opened


def consent_url(server: LiveServer, tenant: Tenant, platform: str) -> str:
    """Where Herald sends the browser from a fresh connect link."""
    answer = tenant.client.post("/platform-connections", json={"platform": platform})
    assert answer.status_code == 200, answer.text
    return start_connect(server, str(answer.json()["url"]))


def finish(server: LiveServer, sim: Any, platform: str, consent: str) -> httpx.Response:
    """Allow, follow the redirect to Herald's callback; Herald's final page."""
    back = _consent(sim, consent)
    assert back.startswith(f"{server.base_url}/connect/{platform}/callback?"), back
    with httpx.Client(timeout=30) as browser:
        return browser.get(back)


def test_a_youtube_channel_connects_with_a_refresh_token(
    server: LiveServer, tenant: Tenant, youtube_sim: YouTubeControl
) -> None:
    client_id = "video-test.apps.googleusercontent.com"
    youtube_sim.configure(
        client_id=client_id,
        client_secret=SECRET,
        redirect_uris=[f"{server.base_url}/connect/youtube/callback"],
    )
    with app_in_settings(server, "youtube", youtube_sim, client_id):
        consent = consent_url(server, tenant, "youtube")
        query = httpx.URL(consent).params
        assert query["access_type"] == "offline"
        assert query["code_challenge_method"] == "S256"
        assert "https://www.googleapis.com/auth/youtube.upload" in query["scope"].split()
        page = finish(server, youtube_sim, "youtube", consent)
    assert page.status_code == 200, page.text
    assert f"youtube-{CHANNEL_ID}" in page.text
    credentials = stored_credentials(server, "youtube", CHANNEL_ID)
    assert credentials["refreshToken"].startswith("1//")
    assert youtube_sim.stats()["codes_exchanged"] == 1


def test_a_tiktok_account_connects_through_login_kit(
    server: LiveServer, tenant: Tenant, tiktok_sim: TikTokControl
) -> None:
    tiktok_sim.configure(
        client_key="video-test-key",
        client_secret=SECRET,
        redirect_uris=[f"{server.base_url}/connect/tiktok/callback"],
    )
    with app_in_settings(server, "tiktok", tiktok_sim, "video-test-key"):
        consent = consent_url(server, tenant, "tiktok")
        query = httpx.URL(consent).params
        assert query["client_key"] == "video-test-key"
        assert query["scope"] == "user.info.basic,video.publish,video.upload"
        page = finish(server, tiktok_sim, "tiktok", consent)
    assert page.status_code == 200, page.text
    assert f"tiktok-{OPEN_ID}" in page.text
    listed = tenant.client.get("/platform-connections").json()["connections"]
    tiktok = next(c for c in listed if c["platform"] == "tiktok")
    assert tiktok["accessTokenExpiresAt"] is not None  # 24 h; the refresh token lasts a year
    assert tiktok_sim.stats()["codes_exchanged"] == 1
