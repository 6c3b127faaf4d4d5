"""Helpers for X tests: the simulator's apps, users and control API over real loopback HTTP,
tokens minted without a browser, and the consent page driven by plain HTTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from herald.domain.platform import Platform, platform_id
from herald.platforms.base import Profile
from herald.services.connection import save_connection, verify_account
from herald.services.connection_inputs import ConnectionInput
from herald.sim.faults import SandboxConfig
from herald.sim.x import XApp, XConfig, XUser, create_x_app
from sim_support import (
    HANG_S,
    UNHELD_CALL_TIMEOUT_S,
    SimControl,
    platform_client,
    reset_for_test,
    serve_in_thread,
)
from support import LiveServer, Tenant

CLIENT_ID = "herald-test-client"
CLIENT_SECRET = "x-test-secret-7f3a91"
PUBLIC_CLIENT_ID = "herald-public-client"
REDIRECT_URI = "http://127.0.0.1:9/connect/twitter/callback"
APP = XApp(CLIENT_ID, (REDIRECT_URI,), CLIENT_SECRET, "Herald Test")
PUBLIC_APP = XApp(PUBLIC_CLIENT_ID, (REDIRECT_URI,), None, "Herald Public")
ADA = XUser(
    id="1600000000000000001",
    username="ada",
    name="Ada L.",
    profile_image_url="https://pbs.twimg.com/profile_images/1/ada_normal.png",
)
BOB = XUser(id="1600000000000000002", username="bob", name="Bob")
SCOPE = "tweet.read tweet.write users.read media.write offline.access"

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00\x01" * 300_000


def sim_config(**changes: Any) -> XConfig:
    """The tests' simulator: Ada and Bob, a confidential and a public app, held requests
    short, video processed quickly."""
    values: dict[str, Any] = {
        "common": SandboxConfig(hang_s=HANG_S),
        "apps": (APP, PUBLIC_APP),
        "users": (ADA, BOB),
        "processing_s": 0.3,
    }
    values.update(changes)
    return XConfig(**values)


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


class XControl(SimControl):
    """SimControl plus the X simulator's own control calls and plain API calls."""

    def mint(self, user: XUser = ADA, **fields: Any) -> dict[str, Any]:
        """The token endpoint's answer for `user` without the consent page; `fields` are
        client_id, scope, expires_in."""
        answer: dict[str, Any] = self._ok(
            self.http.post("/_sim/tokens", json={"user_id": user.id, **fields})
        )
        return answer

    def token(self, user: XUser = ADA, **fields: Any) -> str:
        access: str = self.mint(user, **fields)["access_token"]
        return access

    def api(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def tweet(self, token: str, text: str, **fields: Any) -> dict[str, Any]:
        """A tweet created through the API, as a client other than Herald would."""
        response = self.api("POST", "/2/tweets", token, json={"text": text, **fields})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def tweets(self, user: XUser | None = None) -> list[dict[str, Any]]:
        return self.listing("tweets", user=user.id if user else None)

    def media(self) -> list[dict[str, Any]]:
        return self.listing("media")

    def script_token(self, *entries: str) -> None:
        self._ok(self.http.post("/_sim/script", json={"token": list(entries)}))

    def script_upload(self, *faults: str) -> None:
        self._ok(self.http.post("/_sim/script", json={"upload": list(faults)}))

    def script_timeline(self, *faults: str) -> None:
        self._ok(self.http.post("/_sim/script", json={"timeline": list(faults)}))

    def script_media(self, *outcomes: str) -> None:
        self._ok(self.http.post("/_sim/script", json={"media": list(outcomes)}))

    def expire_tokens(self, user: XUser | None = None) -> int:
        body = {"user_id": user.id} if user else {}
        expired: int = self._ok(self.http.post("/_sim/expire-tokens", json=body))["expired"]
        return expired

    def revoke_app(self, user: XUser = ADA, client_id: str | None = None) -> int:
        body = {"user_id": user.id, **({"client_id": client_id} if client_id else {})}
        revoked: int = self._ok(self.http.post("/_sim/revoke", json=body))["revoked"]
        return revoked

    def add_app(self, client_id: str, redirect_uris: list[str], **fields: Any) -> None:
        body = {"client_id": client_id, "redirect_uris": redirect_uris, **fields}
        self._ok(self.http.post("/_sim/apps", json=body))

    def add_user(self, username: str, **fields: Any) -> dict[str, Any]:
        user: dict[str, Any] = self._ok(
            self.http.post("/_sim/users", json={"username": username, **fields})
        )
        return user

    def authorize_query(self, challenge: str, state: str = "st-1", **params: str) -> str:
        values = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **params,
        }
        return urlencode(values)

    def consent(self, query: str, decision: str = "approve", user: XUser = ADA) -> dict[str, str]:
        """Opens the consent page for `query` and answers it as `user` would: the query of
        the redirect back to the app."""
        page = self.http.get(f"/i/oauth2/authorize?{query}")
        assert page.status_code == 200, page.text
        found = re.search(r'name="request_id" value="([^"]+)"', page.text)
        assert found is not None, page.text
        form = {"request_id": found.group(1), "decision": decision, "user_id": user.id}
        answer = self.http.post("/i/oauth2/authorize", data=form)
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(REDIRECT_URI), location
        return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}

    def authorize(self, user: XUser = ADA, **params: str) -> tuple[str, str]:
        """A fresh authorization code for `user` and the verifier that redeems it."""
        verifier, challenge = pkce_pair()
        code = self.consent(self.authorize_query(challenge, **params), user=user)["code"]
        return code, verifier

    def token_request(self, form: dict[str, str], **headers: str) -> httpx.Response:
        return self.http.post("/2/oauth2/token", data=form, headers=headers)

    def exchange(self, code: str, verifier: str) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        return self.token_request(form, **basic())

    def refresh(self, refresh_token: str) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.token_request(form, **basic())


@pytest.fixture(scope="module")
def x_sim_url() -> Iterator[str]:
    """One simulator per test module; `x_sim` resets it before each test."""
    with serve_in_thread(create_x_app(sim_config())) as base_url:
        yield base_url


@pytest.fixture
def x_sim(x_sim_url: str) -> Iterator[XControl]:
    yield from reset_for_test(XControl(x_sim_url))


def connect_x(server: LiveServer, tenant: Tenant, x_sim: XControl) -> str:
    """The connection the OAuth callback would store, made with a token the simulator minted:
    verified with X, then saved by the connection service."""
    minted = x_sim.mint(ADA)
    request = ConnectionInput(
        Platform.TWITTER,
        credentials={
            "accessToken": minted["access_token"],
            "refreshToken": minted.get("refresh_token"),
            "expiresAt": None,
            "scope": minted["scope"],
        },
        options={"apiUrl": x_sim.base_url},
    )

    async def verify() -> Profile:
        async with platform_client(UNHELD_CALL_TIMEOUT_S) as http:
            return await verify_account(request, http, server.settings)

    profile = asyncio.run(verify())

    async def save(session: Any) -> str:
        connection = await save_connection(
            session, server.context.secret_box, tenant.account_id, request, profile
        )
        return platform_id(Platform.TWITTER, connection.external_id)

    return server.transaction(save)
