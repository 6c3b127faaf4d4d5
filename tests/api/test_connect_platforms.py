"""POST /platform-connections against each platform's simulator: credentials are checked with the
platform before anything is stored, refusals name the platform and the reason, and the
credentials never come back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from herald.models import Connection
from herald.sim.bluesky import create_bluesky_app
from herald.sim.bluesky_config import DEMO_ACCOUNT
from herald.sim.mastodon import create_mastodon_app
from herald.sim.mastodon_config import DEFAULT_ACCOUNT, MastodonConfig
from herald.sim.telegram import create_telegram_app
from herald.sim.telegram_config import DEMO_TOKEN
from sim_support import closed_port, serve_in_thread
from support import LiveServer, Tenant


@pytest.fixture(scope="module")
def pds() -> Iterator[str]:
    with serve_in_thread(create_bluesky_app()) as base:
        yield base


@pytest.fixture(scope="module")
def instance() -> Iterator[str]:
    with serve_in_thread(create_mastodon_app()) as base:
        yield base


@pytest.fixture(scope="module")
def bot_api() -> Iterator[str]:
    with serve_in_thread(create_telegram_app()) as base:
        yield base


def _connect(tenant: Tenant, **body: Any) -> Any:
    return tenant.client.post("/platform-connections", json=body)


def _connections(tenant: Tenant) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = tenant.client.get("/platform-connections").json()["connections"]
    return found


def test_bluesky_profile_is_stored_and_the_password_is_not_shown(tenant: Tenant, pds: str) -> None:
    response = _connect(
        tenant,
        platform="bluesky",
        handle="@" + DEMO_ACCOUNT.handle,  # the @ people type is dropped
        appPassword=DEMO_ACCOUNT.app_password,
        pdsUrl=pds,
    )
    assert response.status_code == 201, response.text
    connection = response.json()["connection"]
    assert connection["platformId"] == f"bluesky-{DEMO_ACCOUNT.did}"
    assert connection["platform"] == "bluesky"
    assert connection["profileUrl"] == f"https://bsky.app/profile/{DEMO_ACCOUNT.handle}"
    assert DEMO_ACCOUNT.app_password not in response.text
    assert connection in _connections(tenant)


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        (
            {"platform": "bluesky", "handle": DEMO_ACCOUNT.handle, "appPassword": "nope-nope"},
            400,
            "PLATFORM_CREDENTIALS_REJECTED",
            ["Bluesky", "Invalid identifier or password"],
        ),
        (
            {"platform": "mastodon", "accessToken": "not-the-token"},
            400,
            "PLATFORM_CREDENTIALS_REJECTED",
            ["Mastodon", "access token is invalid"],
        ),
        (
            {
                "platform": "telegram",
                "botToken": "123456789:AAwrong-token-wrong-token",
                "chat": "@herald_demo",
            },
            400,
            "PLATFORM_CREDENTIALS_REJECTED",
            ["Telegram", "Unauthorized"],
        ),
        (
            {"platform": "telegram", "botToken": DEMO_TOKEN, "chat": "@no_such_chat"},
            400,
            "PLATFORM_REJECTED",
            ["Telegram", "chat not found"],
        ),
    ],
)
def test_refused_credentials_name_the_platform_and_the_reason(
    tenant: Tenant,
    pds: str,
    instance: str,
    bot_api: str,
    body: dict[str, str],
    status: int,
    code: str,
    words: list[str],
) -> None:
    urls = {"bluesky": {"pdsUrl": pds}, "mastodon": {"instanceUrl": instance}}
    urls["telegram"] = {"apiUrl": bot_api}
    response = _connect(tenant, **body, **urls[body["platform"]])
    assert response.status_code == status, response.text
    error = response.json()
    assert error["code"] == code
    for word in words:
        assert word in error["error"]
    for secret in ("nope-nope", "not-the-token", "wrong-token-wrong-token"):
        assert secret not in response.text
    assert len(_connections(tenant)) == 1  # only the tenant's sandbox


def test_an_unreachable_platform_is_a_502(tenant: Tenant) -> None:
    response = _connect(
        tenant,
        platform="mastodon",
        instanceUrl=f"http://127.0.0.1:{closed_port()}",
        accessToken=DEFAULT_ACCOUNT.token,
    )
    assert response.status_code == 502
    assert response.json()["code"] == "PLATFORM_UNREACHABLE"
    assert "Mastodon" in response.json()["error"]


def test_reconnecting_replaces_credentials_and_lifts_a_reauth_block(
    server: LiveServer, tenant: Tenant, instance: str
) -> None:
    body = {"platform": "mastodon", "instanceUrl": instance, "accessToken": DEFAULT_ACCOUNT.token}
    first = _connect(tenant, **body).json()["connection"]

    async def expire(session: Any) -> None:
        from sqlalchemy import select, update

        from herald.models import ConnectionGate

        connection = await session.scalar(
            select(Connection).where(Connection.platform == "mastodon")
        )
        await session.execute(
            update(Connection).where(Connection.id == connection.id).values(status="needs_reauth")
        )
        session.add(
            ConnectionGate(
                connection_id=connection.id,
                blocked_until=connection.created_at.replace(year=2999),
                reason="needs_reauth",
            )
        )

    server.transaction(expire)
    again = _connect(tenant, **body)
    assert again.status_code == 201
    assert again.json()["connection"] == first
    assert [c["platformId"] for c in _connections(tenant)].count(first["platformId"]) == 1

    async def state(session: Any) -> tuple[str, int]:
        from sqlalchemy import func, select

        from herald.models import ConnectionGate

        connection = await session.scalar(
            select(Connection).where(Connection.platform == "mastodon")
        )
        gates = await session.scalar(select(func.count()).select_from(ConnectionGate))
        return connection.status, gates

    assert server.transaction(state) == ("active", 0)


def test_a_mastodon_instance_with_a_higher_limit_gets_longer_statuses(tenant: Tenant) -> None:
    """The instance's max_characters, read when connecting, sizes the thread parts."""
    content = "A sentence of some length that goes on. " * 18  # 720 characters
    roomy = MastodonConfig(max_characters=1000)
    threaded = {}
    for config in (MastodonConfig(), roomy):
        with serve_in_thread(create_mastodon_app(config)) as url:
            body = {"instanceUrl": url, "accessToken": DEFAULT_ACCOUNT.token}
            response = _connect(tenant, platform="mastodon", **body)
            assert response.status_code == 201, response.text
        platform_id = response.json()["connection"]["platformId"]
        created = tenant.client.post(
            "/create-post",
            json={"content": content, "platforms": [platform_id], "status": "draft"},
        )
        assert created.status_code == 200, created.text
        group = tenant.client.get(f"/get-post/{created.json()['postGroupId']}").json()
        threaded[config.max_characters] = group["posts"][0]["isThread"]
        # Both simulators give their demo account the same id: one connection at a time.
        assert tenant.client.delete(f"/platform-connections/{platform_id}").is_success
    assert threaded == {500: True, 1000: False}


def test_the_same_mastodon_id_on_another_instance_is_refused(tenant: Tenant, instance: str) -> None:
    body = {"platform": "mastodon", "accessToken": DEFAULT_ACCOUNT.token}
    first = _connect(tenant, **body, instanceUrl=instance)
    assert first.status_code == 201
    with serve_in_thread(create_mastodon_app()) as other:
        refused = _connect(tenant, **body, instanceUrl=other)
    assert refused.status_code == 409
    assert refused.json()["code"] == "CONNECTION_EXISTS"
    assert instance in refused.json()["error"]
    again = _connect(tenant, **body, instanceUrl=instance)  # the same instance reconnects
    assert again.status_code == 201
