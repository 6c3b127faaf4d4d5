"""Helpers for LinkedIn tests: the simulator over real loopback HTTP with its control API, the
test app in the live server's settings, and the consent page answered by plain HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from herald.sim.faults import SandboxConfig
from herald.sim.linkedin import (
    LinkedInApp,
    LinkedInConfig,
    Member,
    Organization,
    create_linkedin_app,
)
from sim_support import HANG_S, SimControl, serve_in_thread
from support import LiveServer

CLIENT_ID = "herald-linkedin-test"
CLIENT_SECRET = "li-test-secret-2c81"
ADA = Member("Tz9W5i6ZYG", "Ada", "Lovelace", "https://media.licdn.com/ada.jpg", followers=1200)
GRACE = Member("Gr4ceH0pp3", "Grace", "Hopper", followers=800)
ENGINES = Organization(2414183, "Analytical Engines Ltd", "analytical-engines", (ADA.sub,), 5400)
OTHER = Organization(1035, "Someone Else's Page", "someone-else", (GRACE.sub,), 10)
MEMBER_SCOPE = "openid profile w_member_social"
PAGE_SCOPE = f"{MEMBER_SCOPE} w_organization_social r_organization_admin"
VERSION = "202610"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00\x01" * 150_000


def sim_config(
    server_callback: str = "http://127.0.0.1:9/connect/linkedin/callback", **changes: Any
) -> LinkedInConfig:
    values: dict[str, Any] = {
        "common": SandboxConfig(hang_s=HANG_S),
        "apps": (LinkedInApp(CLIENT_ID, (server_callback,), CLIENT_SECRET, "Herald Test"),),
        "members": (ADA, GRACE),
        "organizations": (ENGINES, OTHER),
        "video_part_bytes": 128 * 1024,  # a small video still goes in three parts
    }
    values.update(changes)
    return LinkedInConfig(**values)


class LinkedInControl(SimControl):
    """SimControl plus LinkedIn's own control calls and plain API calls."""

    def token(self, member: Member = ADA, scope: str = MEMBER_SCOPE, **fields: Any) -> str:
        body = {"sub": member.sub, "scope": scope, **fields}
        token: str = self._ok(self.http.post("/_sim/tokens", json=body))["access_token"]
        return token

    def rest(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        version: str | None = VERSION,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if version is not None:
            headers["LinkedIn-Version"] = version
        headers.setdefault("X-Restli-Protocol-Version", "2.0.0")
        return self.http.request(method, path, headers=headers, **kwargs)

    def posts(self, ref: str | None = None) -> list[dict[str, Any]]:
        return self.listing("posts")

    def assets(self) -> list[dict[str, Any]]:
        return self.listing("assets")

    def consent(
        self,
        consent_url: str,
        member: Member = ADA,
        decision: str = "allow",
        untick: tuple[str, ...] = (),
    ) -> str:
        """Answer the consent page as a browser would; the redirect back to the app."""
        page = self.http.get(consent_url.removeprefix(self.base_url))
        assert page.status_code == 200, page.text
        handle = re.search(r'name="handle" value="([^"]+)"', page.text)
        state = re.search(r'name="state" value="([^"]*)"', page.text)
        assert handle is not None, page.text
        assert state is not None, page.text
        scopes = re.findall(r'name="scope" value="([^"]+)"', page.text)
        form = [
            ("handle", handle.group(1)),
            ("state", state.group(1)),
            ("member", member.sub),
            ("decision", decision),
        ]
        form += [("scope", s) for s in scopes if s not in untick]
        answer = self.http.post(
            "/oauth/v2/authorization",
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 302, answer.text
        return str(answer.headers["location"])


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@contextmanager
def linkedin_app_on(server: LiveServer, sim: LinkedInControl, **extra: Any) -> Iterator[None]:
    """The live server with the test LinkedIn app (on the simulator) in its settings."""
    saved = server.context.settings
    server.context.settings = saved.model_copy(
        update={
            "linkedin_client_id": CLIENT_ID,
            "linkedin_client_secret": SecretStr(CLIENT_SECRET),
            "linkedin_api_url": sim.base_url,
            "linkedin_auth_url": sim.base_url,
            **extra,
        }
    )
    try:
        yield
    finally:
        server.context.settings = saved


def connect(
    server: LiveServer,
    client: httpx.Client,
    sim: LinkedInControl,
    member: Member = ADA,
    **consent: Any,
) -> httpx.Response:
    """The whole connect flow without a browser: link, consent, callback; Herald's page."""
    answer = client.post("/platform-connections", json={"platform": "linkedin"})
    assert answer.status_code == 200, answer.text
    with httpx.Client(timeout=30) as browser:
        started = browser.get(answer.json()["url"], follow_redirects=False)
        assert started.status_code == 303, started.text
        back = sim.consent(started.headers["location"], member, **consent)
        assert back.startswith(f"{server.base_url}/connect/linkedin/callback?"), back
        return browser.get(back)


@pytest.fixture(scope="module")
def linkedin_sim_url(live_server: LiveServer) -> Iterator[str]:
    """One simulator per test module, its app's callback on the live server."""
    callback = f"{live_server.base_url}/connect/linkedin/callback"
    with serve_in_thread(create_linkedin_app(sim_config(callback))) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def linkedin_control(linkedin_sim_url: str) -> Iterator[LinkedInControl]:
    """One control client per module: making an HTTP client costs more than a test."""
    control = LinkedInControl(linkedin_sim_url)
    yield control
    control.close()


@pytest.fixture
def linkedin_sim(linkedin_control: LinkedInControl) -> LinkedInControl:
    linkedin_control.reset()
    return linkedin_control
