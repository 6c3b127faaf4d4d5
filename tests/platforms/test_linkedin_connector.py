"""LinkedInConnector against the LinkedIn simulator over loopback: verify and pages, the
version setting's error, DUPLICATE_POST as proof of an earlier send, the daily quota's hold,
and answers after the post may exist."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.domain.platform import Platform
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.linkedin import LinkedInConnector
from herald.platforms.linkedin.errors import until_midnight_utc
from herald.sim.linkedin import create_linkedin_app
from linkedin_support import ADA, ENGINES, PAGE_SCOPE, LinkedInControl, sim_config
from sim_support import platform_client, serve_in_thread

CONNECTOR = LinkedInConnector()


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with serve_in_thread(create_linkedin_app(sim_config())) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def control(sim_url: str) -> Iterator[LinkedInControl]:
    """One control client per module: making an HTTP client costs more than a test."""
    with closing(LinkedInControl(sim_url)) as made:
        yield made


@pytest.fixture
def sim(control: LinkedInControl) -> LinkedInControl:
    control.reset()
    return control


def _request(sim: LinkedInControl, token: str, **fields: Any) -> PublishRequest:
    values: dict[str, Any] = {
        "target_id": "t1",
        "platform": Platform.LINKEDIN,
        "account_external_id": ADA.sub,
        "text": "Hello #herald",
        "options": {"apiUrl": sim.base_url, "author": ADA.urn, "linkedinVersion": "202610"},
        "credentials": {"accessToken": token},
    }
    values.update(fields)
    return PublishRequest(**values)


def _publish(request: PublishRequest) -> Published:
    async def run() -> Published:
        async with platform_client() as http:
            return await CONNECTOR.publish(http, request, "key-1")

    return asyncio.run(run())


def test_verify_reads_the_member_and_the_pages_they_administer(sim: LinkedInControl) -> None:
    credentials = {"accessToken": sim.token(scope=PAGE_SCOPE)}

    async def run() -> tuple[Profile, list[Profile]]:
        async with platform_client() as http:
            options = {"apiUrl": sim.base_url}
            member = await CONNECTOR.verify(http, credentials, options)
            return member, await CONNECTOR.administered_pages(http, credentials, options)

    member, pages = asyncio.run(run())
    assert (member.external_id, member.username, member.options) == (
        ADA.sub,
        "Ada Lovelace",
        {"author": ADA.urn},
    )
    assert [(p.external_id, p.username, p.options["author"]) for p in pages] == [
        (f"org-{ENGINES.id}", ENGINES.name, ENGINES.urn)
    ]


def test_an_unsupported_version_is_refused_naming_the_setting(sim: LinkedInControl) -> None:
    request = _request(sim, sim.token())
    old = _request(sim, sim.token(), options={**request.options, "linkedinVersion": "202401"})
    with pytest.raises(RejectedError) as caught:
        _publish(old)
    assert caught.value.code == "LINKEDIN_VERSION_UNSUPPORTED"
    assert "HERALD_LINKEDIN_VERSION" in caught.value.message
    assert "20240101 is not active" in caught.value.message
    assert sim.posts() == []


def test_a_lost_answer_is_unknown_and_the_resend_settles_on_duplicate_post(
    sim: LinkedInControl,
) -> None:
    request = _request(sim, sim.token())
    sim.script("lost_response")
    with pytest.raises(OutcomeUnknownError):
        _publish(request)
    [landed] = sim.posts()
    again = _publish(request)
    assert again == Published(
        landed["urn"], f"https://www.linkedin.com/feed/update/{landed['urn']}"
    )
    assert len(sim.posts()) == 1
    assert sim.stats()["duplicates"] == 1


def test_a_500_after_the_post_was_stored_is_unknown(sim: LinkedInControl) -> None:
    sim.script("error_after_create")
    with pytest.raises(OutcomeUnknownError):
        _publish(_request(sim, sim.token()))
    assert len(sim.posts()) == 1


def test_the_daily_quota_holds_the_connection_until_midnight_utc(sim: LinkedInControl) -> None:
    sim.configure(daily_posts_per_member=1)
    token = sim.token()
    _publish(_request(sim, token, text="one"))
    with pytest.raises(RetryableError) as caught:
        _publish(_request(sim, token, text="two"))
    assert caught.value.rate_limited
    assert caught.value.retry_after is not None
    assert abs(caught.value.retry_after - until_midnight_utc()) < 5


def test_until_midnight_utc_counts_to_the_next_day() -> None:
    moment = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
    assert until_midnight_utc(moment) == timedelta(hours=1).total_seconds()


def test_a_dead_token_needs_reauthorisation(sim: LinkedInControl) -> None:
    with pytest.raises(AuthExpiredError):
        _publish(_request(sim, "expired-token"))


def test_a_first_comment_goes_on_the_post(sim: LinkedInControl) -> None:
    token = sim.token()
    post = _publish(_request(sim, token))
    comment = _publish(
        _request(
            sim,
            token,
            text="More (below)",
            reply_to_id=post.external_id,
            part_index=1,
            part_count=2,
        )
    )
    assert comment.external_id.startswith(f"urn:li:comment:({post.external_id},")
    [stored] = sim.posts()
    assert [c["message"]["text"] for c in stored["comments"]] == ["More \\(below\\)"]
