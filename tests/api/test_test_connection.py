"""POST /test-connection/:platformId (publora-latest §2.3, Publora's test-connection page):
the connector's verify, through the registry, against the platform's simulator; every outcome
of the check is a 200 with `status`, and no credential ever appears in the answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from herald.app import SANDBOX_PATH
from herald.models import Connection
from herald.sim.mastodon import create_mastodon_app
from herald.sim.mastodon_config import DEFAULT_ACCOUNT
from herald.sim.telegram import create_telegram_app
from herald.sim.telegram_config import DEMO_TOKEN
from sim_support import closed_port, serve_in_thread
from support import (
    LiveServer,
    Tenant,
    add_raw_connection,
    create_post,
    error_body,
    force_target_states,
    update_target,
)

KEYS = {
    "platform",
    "platformId",
    "username",
    "status",
    "message",
    "permissions",
    "tokenExpiresIn",
    "lastSuccessfulPost",
    "lastError",
}


@pytest.fixture(scope="module")
def instance() -> Iterator[str]:
    with serve_in_thread(create_mastodon_app()) as base:
        yield base


@pytest.fixture(scope="module")
def bot_api() -> Iterator[str]:
    with serve_in_thread(create_telegram_app()) as base:
        yield base


def _connect(tenant: Tenant, **body: Any) -> str:
    response = tenant.client.post("/platform-connections", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["connection"]["platformId"])


def _reseal(server: LiveServer, platform: str, **credentials: str) -> None:
    """Replace the stored credentials, as if the platform had revoked the old ones."""

    async def work(session: Any) -> None:
        connection = await session.scalar(select(Connection).where(Connection.platform == platform))
        connection.credentials = server.context.secret_box.seal(credentials)

    server.transaction(work)


def test_a_working_mastodon_connection_is_ok(tenant: Tenant, instance: str) -> None:
    body = {"instanceUrl": instance, "accessToken": DEFAULT_ACCOUNT.token}
    platform_id = _connect(tenant, platform="mastodon", **body)
    response = tenant.client.post(f"/test-connection/{platform_id}")
    assert response.status_code == 200
    result = response.json()
    assert set(result) == KEYS  # no `success` key
    assert result["platform"] == "mastodon"
    assert result["platformId"] == platform_id
    assert result["status"] == "ok"
    listed = tenant.client.get("/platform-connections").json()["connections"]
    assert (
        result["username"] == next(c for c in listed if c["platformId"] == platform_id)["username"]
    )
    assert result["message"] == f"Connected as {DEFAULT_ACCOUNT.display_name}"
    assert result["permissions"] == []
    assert result["tokenExpiresIn"] is None  # Mastodon tokens do not expire on a schedule
    assert (result["lastSuccessfulPost"], result["lastError"]) == (None, None)


def test_a_revoked_token_is_a_200_with_an_error_and_no_secret(
    server: LiveServer, tenant: Tenant, instance: str
) -> None:
    body = {"instanceUrl": instance, "accessToken": DEFAULT_ACCOUNT.token}
    platform_id = _connect(tenant, platform="mastodon", **body)
    _reseal(server, "mastodon", accessToken="revoked-token-value")
    response = tenant.client.post(f"/test-connection/{platform_id}")
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "error"
    assert "access token is invalid" in result["message"]
    assert "revoked-token-value" not in response.text
    assert DEFAULT_ACCOUNT.token not in response.text


def test_an_unreachable_platform_is_an_error_result(
    server: LiveServer, tenant: Tenant, instance: str
) -> None:
    body = {"instanceUrl": instance, "accessToken": DEFAULT_ACCOUNT.token}
    platform_id = _connect(tenant, platform="mastodon", **body)

    async def move(session: Any) -> None:
        connection = await session.scalar(
            select(Connection).where(Connection.platform == "mastodon")
        )
        connection.options = {
            **connection.options,
            "instanceUrl": f"http://127.0.0.1:{closed_port()}",
        }

    server.transaction(move)
    result = tenant.client.post(f"/test-connection/{platform_id}").json()
    assert result["status"] == "error"
    assert "Mastodon" in result["message"]


def test_a_telegram_bot_that_can_post_names_the_channel(tenant: Tenant, bot_api: str) -> None:
    body = {"botToken": DEMO_TOKEN, "chat": "@herald_demo", "apiUrl": bot_api}
    platform_id = _connect(tenant, platform="telegram", **body)
    response = tenant.client.post(f"/test-connection/{platform_id}")
    result = response.json()
    assert result["status"] == "ok"
    assert result["message"].startswith("Bot can post to ")
    assert DEMO_TOKEN not in response.text


def test_the_sandbox_reports_its_last_success_and_last_error(
    server: LiveServer, tenant: Tenant
) -> None:
    _aim_sandbox_at_test_server(server, tenant)
    published, failed = create_post(tenant, status="draft"), create_post(tenant, status="draft")
    force_target_states(server, published, ["published"])
    update_target(server, published, published_at=_at("2026-01-02T03:04:05Z"))
    force_target_states(server, failed, ["failed"])
    update_target(server, failed, last_error="The platform said no")
    result = tenant.client.post(f"/test-connection/{tenant.platform_id}").json()
    assert result["status"] == "ok", result
    assert result["lastSuccessfulPost"] == "2026-01-02T03:04:05.000Z"
    assert result["lastError"]["message"] == "The platform said no"
    assert result["lastError"]["occurredAt"].endswith("Z")


def _aim_sandbox_at_test_server(server: LiveServer, tenant: Tenant) -> None:
    """The test server's settings name the default port; its simulator is on another."""

    async def work(session: Any) -> None:
        query = select(Connection).where(Connection.account_id == tenant.account_id)
        connection = await session.scalar(query)
        connection.options = {"baseUrl": server.base_url + SANDBOX_PATH}

    server.transaction(work)


def _at(text: str) -> Any:
    from herald.domain.timestamps import parse_timestamp

    return parse_timestamp(text)


def test_a_connection_without_its_credential_is_an_error_naming_it(
    server: LiveServer, tenant: Tenant
) -> None:
    platform_id = add_raw_connection(server, tenant.account_id, "linkedin", "Tz9W5i6ZYG")
    result = tenant.client.post(f"/test-connection/{platform_id}").json()
    assert (result["platform"], result["platformId"], result["status"]) == (
        "linkedin",
        platform_id,
        "error",
    )
    assert result["message"] == "A LinkedIn connection needs an accessToken credential"
    assert result["permissions"] == []


@pytest.mark.parametrize("platform_id", ["nodash", "Twitter-1", "-x", "twitter-", "twitter-a b"])
def test_a_malformed_platform_id_is_a_400(tenant: Tenant, platform_id: str) -> None:
    response = tenant.client.post(f"/test-connection/{platform_id}")
    assert response.status_code == 400
    assert response.json() == error_body("Invalid platformId format", "INVALID_PLATFORM_ID")


def test_another_tenants_connection_is_not_found(
    tenant: Tenant, new_tenant: Callable[..., Tenant]
) -> None:
    stranger = new_tenant("Other")
    for platform_id in (tenant.platform_id, "telegram--100123", "pinterest-abc"):
        response = stranger.client.post(f"/test-connection/{platform_id}")
        assert response.status_code == 404
        assert response.json() == error_body("Connection not found", "CONNECTION_NOT_FOUND")
