"""Keeping X tokens alive, with the engine publishing to the X simulator over loopback, on both
databases: a token that expires mid-burst is renewed once, renewals happen ahead of expiry, a
revoked grant flags the connection and holds its posts until it is connected again, and a token
that cannot be renewed is announced once by `token.expiring`."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from herald.db.engine import create_engine, create_session_factory
from herald.oauth.refresher import TokenKeeper
from oauth_support import (
    connect_by_hand,
    connect_minted,
    credentials_of,
    stored_connection,
    x_app_on_sim,
    x_settings,
)
from sim_support import platform_client
from support import LiveServer, Tenant, iso_in, post_when, running_engine, wait_until
from webhook_support import webhook_receiver
from x_support import ADA, BOB, XControl

BURST = 20


def _due_now(tenant: Tenant, platform_id: str, text: str) -> str:
    body = {"content": text, "platforms": [platform_id], "scheduledTime": iso_in()}
    answer = tenant.client.post("/create-post", json=body)
    assert answer.status_code in (200, 201), answer.text  # 200: "now" was coerced to now
    return str(answer.json()["postGroupId"])


def test_a_token_expiring_mid_burst_is_renewed_once(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    # Four at a time, each tweet taking a while: the burst lasts several rounds, and the token
    # dies (X refuses it with 401) once the first tweets are out.
    x_sim.configure(latency_ms=150)
    settings = x_settings(server, x_sim, engine_concurrency=4)
    with x_app_on_sim(server, x_sim):
        connection = connect_minted(server, tenant.account_id, x_sim, ADA, settings)
        before = credentials_of(server, ADA.id)
        groups = [_due_now(tenant, connection, f"Burst tweet {n}") for n in range(BURST)]
        with running_engine(server, settings) as engine:
            wait_until(lambda: x_sim.stats()["tweets"] >= 2, timeout=30, every=0.01)
            assert x_sim.expire_tokens(ADA) >= 1
            for group in groups:
                assert post_when(tenant, group, "published", "failed", timeout=60)["status"] == (
                    "published"
                )
            renewals = engine.tokens.renewals
            metrics = "\n".join(engine.metrics.render())
    stats = x_sim.stats()
    assert stats["refreshes"] == 1, stats
    assert renewals == 1
    assert 'herald_token_renewals_total{result="renewed"} 1' in metrics
    assert len(x_sim.tweets(ADA)) == BURST  # each once: a 401 created nothing
    # Some tweets went out before the expiry; those in flight at it were refused and sent
    # once more, at most one round (four) of them.
    assert BURST < stats["creates"] <= BURST + 4
    after = credentials_of(server, ADA.id)
    assert after["accessToken"] != before["accessToken"]
    assert after["refreshToken"] != before["refreshToken"]  # X rotated it; Herald kept the new


def test_a_token_past_its_stated_expiry_is_renewed_before_sending(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    settings = x_settings(server, x_sim)
    with x_app_on_sim(server, x_sim):
        # X says the token lives 1 s: by the time the engine sends, Herald knows it is spent.
        connection = connect_minted(server, tenant.account_id, x_sim, ADA, settings, expires_in=1)
        time.sleep(1.2)
        groups = [_due_now(tenant, connection, f"Late tweet {n}") for n in range(5)]
        with running_engine(server, settings):
            for group in groups:
                assert post_when(tenant, group, "published", "failed", timeout=30)["status"] == (
                    "published"
                )
    stats = x_sim.stats()
    assert stats["refreshes"] == 1
    assert stats["creates"] == 5  # no tweet was sent with the dead token first


def test_the_engine_renews_a_token_ahead_of_its_expiry(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    settings = x_settings(server, x_sim, oauth_refresh_interval_seconds=0.2)
    with x_app_on_sim(server, x_sim):
        connect_minted(server, tenant.account_id, x_sim, BOB, settings, expires_in=4)
        first = stored_connection(server, BOB.id)
        with running_engine(server, settings):
            wait_until(lambda: x_sim.stats()["refreshes"] >= 1, timeout=15)
            time.sleep(0.5)  # and not again: the new token lives 7200 s
    assert x_sim.stats()["refreshes"] == 1
    renewed = stored_connection(server, BOB.id)
    assert first.refresh_at is not None
    assert renewed.refresh_at is not None
    assert renewed.refresh_at > first.refresh_at
    assert credentials_of(server, BOB.id)["accessToken"] != ""


def test_two_keepers_on_separate_pools_renew_once(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    """Two processes' keepers (separate connection pools, separate locks in memory) meet the
    same refused token: the database lock lets one renew, the other reuses its token."""
    settings = x_settings(server, x_sim)
    with x_app_on_sim(server, x_sim):
        connect_minted(server, tenant.account_id, x_sim, ADA, settings)
        stale = credentials_of(server, ADA.id)
        connection_id = stored_connection(server, ADA.id).id
        x_sim.configure(latency_ms=0)

        async def race() -> list[dict[str, Any]]:
            engines = [create_engine(settings.resolved_database_url) for _ in range(2)]
            try:
                async with platform_client() as http:
                    keepers = [
                        TokenKeeper(
                            create_session_factory(e), server.context.secret_box, settings, http
                        )
                        for e in engines
                    ]
                    return await asyncio.gather(
                        *(k.fresh(connection_id, stale, "refused") for k in keepers)
                    )
            finally:
                for e in engines:
                    await e.dispose()

        first, second = asyncio.run(race())
    assert x_sim.stats()["refreshes"] == 1
    assert first["accessToken"] == second["accessToken"] != stale["accessToken"]


def test_a_revoked_grant_flags_the_connection_and_holds_its_posts_until_reconnected(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    settings = x_settings(server, x_sim)
    with x_app_on_sim(server, x_sim):
        connection = connect_by_hand(server, tenant.client, x_sim, ADA.id)
        assert connection.status_code == 200
        platform_id = f"twitter-{ADA.id}"
        x_sim.revoke_app(ADA)  # the user removed Herald in X's settings
        with running_engine(server, settings) as engine:
            first = _due_now(tenant, platform_id, "Meets the revoked grant")
            failed = post_when(tenant, first, "published", "failed", timeout=30)
            assert failed["posts"][0]["errorCode"] == "NEEDS_REAUTH"
            assert "connect the account again" in failed["posts"][0]["errorMessage"]
            held = _due_now(tenant, platform_id, "Waits for the owner")
            time.sleep(1.0)
            assert tenant.client.get(f"/get-post/{held}").json()["status"] == "scheduled"
            listed = tenant.client.get("/platform-connections").json()["connections"]
            x = next(c for c in listed if c["platformId"] == platform_id)
            assert x["tokenStatus"] == "expired"
            assert engine.tokens.renewals == 1
            # The owner connects again: the held post goes out.
            assert connect_by_hand(server, tenant.client, x_sim, ADA.id).status_code == 200
            done = post_when(tenant, held, "published", "failed", timeout=30)
    assert done["status"] == "published"
    assert stored_connection(server, ADA.id).status == "active"
    stats = x_sim.stats()
    assert stats["refreshes"] == 0  # the one attempt was refused
    assert stats["token_refusals"] >= 1


@pytest.fixture
def subscribed(tenant: Tenant) -> Any:
    with webhook_receiver() as receiver:
        body = {"name": "Tokens", "url": receiver.url, "events": ["token.expiring"]}
        created = tenant.client.post("/webhooks", json=body).json()["webhook"]
        receiver.secret = created["secret"]
        yield receiver


def test_a_token_that_cannot_be_renewed_is_announced_once(
    server: LiveServer, tenant: Tenant, x_sim: XControl, subscribed: Any
) -> None:
    settings = x_settings(server, x_sim, oauth_refresh_interval_seconds=0.1)
    with x_app_on_sim(server, x_sim):
        # Granted without offline.access: no refresh token, two hours to live.
        connect_minted(
            server,
            tenant.account_id,
            x_sim,
            BOB,
            settings,
            scope="tweet.read tweet.write users.read media.write",
        )
        listed = tenant.client.get("/platform-connections").json()["connections"]
        x = next(c for c in listed if c["platform"] == "twitter")
        assert x["tokenStatus"] == "expiring_soon"
        assert x["tokenExpiresIn"] in ("1h", "2h")
        assert x["accessTokenExpiresAt"] is not None
        with running_engine(server, settings):
            wait_until(lambda: subscribed.events(), timeout=15)
            time.sleep(0.5)  # several more passes of the refresher
    assert subscribed.events() == ["token.expiring"]
    [delivery] = subscribed.accepted
    envelope = json.loads(delivery.body)
    assert envelope["event"] == "token.expiring"
    assert envelope["data"] == {
        "platform": "twitter",
        "platformId": f"twitter-{BOB.id}",
        "username": "@bob",
        "expiresAt": x["accessTokenExpiresAt"],
    }
    assert x_sim.stats()["refreshes"] == 0


def test_a_busy_token_endpoint_is_tried_again_not_taken_for_a_revoked_grant(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    settings = x_settings(server, x_sim)
    with x_app_on_sim(server, x_sim):
        connection = connect_minted(server, tenant.account_id, x_sim, ADA, settings)
        x_sim.expire_tokens(ADA)
        x_sim.script_token("unavailable")  # the first renewal meets a 503
        group = _due_now(tenant, connection, "Sent once X's token endpoint is back")
        with running_engine(server, settings):
            done = post_when(tenant, group, "published", "failed", timeout=30)
    assert done["status"] == "published", done
    assert stored_connection(server, ADA.id).status == "active"
    stats = x_sim.stats()
    assert stats["token_faults"] == 1
    assert stats["refreshes"] == 1
    assert len(x_sim.tweets(ADA)) == 1


def test_a_lost_renewal_answer_ends_in_needs_reauth_not_a_loop(
    server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    """X rotated the refresh token but its answer never arrived: the old one is spent, which no
    retry can mend. The next renewal is refused, and the owner is asked to connect again."""
    settings = x_settings(server, x_sim, engine_http_timeout_seconds=1.0)
    with x_app_on_sim(server, x_sim):
        connection = connect_minted(server, tenant.account_id, x_sim, ADA, settings)
        x_sim.expire_tokens(ADA)
        x_sim.script_token("lost_response")
        group = _due_now(tenant, connection, "Meets a lost renewal")
        with running_engine(server, settings):
            done = post_when(tenant, group, "published", "failed", timeout=30)
    assert done["posts"][0]["errorCode"] == "NEEDS_REAUTH", done
    assert stored_connection(server, ADA.id).status == "needs_reauth"
    stats = x_sim.stats()
    assert stats["refreshes"] == 1  # the lost one; the retry was refused
    assert stats["token_refusals"] == 1
    assert x_sim.tweets(ADA) == []
