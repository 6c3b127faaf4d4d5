"""Bluesky sessions over real HTTP: one login per account, refresh on a stale token, log in again
when the refresh is refused too, and credentials refused for good."""

from __future__ import annotations

import asyncio

import pytest

from bluesky_support import (
    ALICE,
    BlueskyControl,
    bluesky_request,
    publish,
    run,
)
from herald.platforms.base import AuthExpiredError, Published, RetryableError
from herald.platforms.bluesky import BlueskyConnector
from sim_support import CLIENT_TIMEOUT_S, platform_client

WRONG = {"identifier": ALICE.handle, "appPassword": "zzzz-zzzz-zzzz-zzzz"}


def sessions(bluesky_sim: BlueskyControl) -> tuple[int, int]:
    counts = bluesky_sim.stats()["sessions"]
    return counts["created"], counts["refreshed"]


def test_many_posts_share_one_session(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    for number in range(5):
        publish(
            bluesky_connector,
            bluesky_request(bluesky_sim.base_url, text=f"post {number}"),
            f"k{number}",
        )
    assert sessions(bluesky_sim) == (1, 0)
    assert bluesky_sim.stats()["records"] == 5


def test_a_burst_of_posts_makes_one_login(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    async def burst() -> list[Published]:
        async with platform_client(CLIENT_TIMEOUT_S * 5) as client:
            calls = [
                bluesky_connector.publish(
                    client, bluesky_request(bluesky_sim.base_url, text=f"n{n}"), f"k{n}"
                )
                for n in range(12)
            ]
            return await asyncio.gather(*calls)

    assert len(set(asyncio.run(burst()))) == 12
    assert sessions(bluesky_sim) == (1, 0)


@pytest.mark.parametrize("status", [400, 401])
def test_an_expired_access_token_is_refreshed_once(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector, status: int
) -> None:
    bluesky_sim.configure(token_error_status=status)
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "k1")
    assert bluesky_sim.expire_tokens() == {"access": 1, "refresh": 0}
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "k2")
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "k3")
    assert sessions(bluesky_sim) == (1, 1)
    assert bluesky_sim.stats()["records"] == 3


def test_when_the_refresh_token_expired_too_it_logs_in_again(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "k1")
    bluesky_sim.expire_tokens(refresh=True)
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "k2")
    assert sessions(bluesky_sim) == (2, 0)
    assert bluesky_sim.stats()["records"] == 2


def test_a_session_refused_even_when_new_needs_a_reconnect(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    bluesky_sim.configure(access_ttl_s=0)  # every access token is born expired
    with pytest.raises(AuthExpiredError, match="refused a new session at once: ExpiredToken"):
        publish(bluesky_connector, bluesky_request(bluesky_sim.base_url))
    assert bluesky_sim.stats()["records"] == 0


def test_wrong_credentials_are_auth_expired_and_never_echoed(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    with pytest.raises(AuthExpiredError) as caught:
        publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, credentials=WRONG))
    assert "Invalid identifier or password" in caught.value.message
    assert WRONG["appPassword"] not in repr(caught.value)
    assert bluesky_sim.stats()["records"] == 0


def test_a_changed_app_password_is_a_new_login_not_the_cached_session(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "k1")
    with pytest.raises(AuthExpiredError):
        publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, credentials=WRONG), "k2")
    publish(
        bluesky_connector, bluesky_request(bluesky_sim.base_url), "k3"
    )  # the good session is still there
    assert sessions(bluesky_sim) == (1, 0)


def test_a_login_refused_by_the_rate_limit_is_retryable(bluesky_sim: BlueskyControl) -> None:
    bluesky_sim.configure(session_limit=2)
    for _ in range(2):
        publish(BlueskyConnector(), bluesky_request(bluesky_sim.base_url))
    with pytest.raises(RetryableError) as caught:
        publish(BlueskyConnector(), bluesky_request(bluesky_sim.base_url))
    assert caught.value.rate_limited
    assert caught.value.retry_after is not None
    assert 299 <= caught.value.retry_after <= 301  # RateLimit-Reset: the window's end


def test_verify_always_logs_in_afresh_and_leaves_the_session_for_posts(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    credentials = {"identifier": ALICE.handle, "appPassword": ALICE.app_password}
    for _ in range(2):
        run(
            lambda client: bluesky_connector.verify(
                client, credentials, {"pdsUrl": bluesky_sim.base_url}
            )
        )
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url))
    assert sessions(bluesky_sim) == (2, 0)


def test_an_access_token_about_to_expire_is_refreshed_before_use(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    bluesky_sim.configure(
        access_ttl_s=30
    )  # always under the two minutes the connector renews ahead
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "k1")
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "k2")
    created, refreshed = sessions(bluesky_sim)
    assert created == 1
    assert refreshed >= 1
    # No call was refused for a stale token first: one createRecord per post.
    assert bluesky_sim.stats()["calls"]["com.atproto.repo.createRecord"] == 2
