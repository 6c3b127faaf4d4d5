"""MastodonConnector against the Mastodon simulator over real HTTP: verify, statuses, threads,
rate limits and the answers that map onto each error of the taxonomy."""

from __future__ import annotations

import asyncio

import pytest

from herald.domain.platform import Platform
from herald.domain.text import measure
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    Published,
    RejectedError,
    RetryableError,
)
from mastodon_support import (
    ADA,
    TOKEN,
    MastodonControl,
    connector,
    mastodon_request,
    publish,
    verify,
)
from sim_support import closed_port, platform_client


def test_declares_mastodon_and_its_one_hour_keys() -> None:
    assert connector.platform is Platform.MASTODON
    assert connector.capabilities.idempotency_ttl is not None
    assert connector.capabilities.idempotency_ttl.total_seconds() == 3600
    assert connector.capabilities.supports_lookup
    assert connector.capabilities.threads


def test_verify_returns_the_accounts_profile(mastodon_sim: MastodonControl) -> None:
    profile = verify(mastodon_sim.base_url)
    host = mastodon_sim.base_url.removeprefix("http://")
    assert profile.external_id == ADA.id
    assert profile.username == f"@ada@{host}"
    assert profile.display_name == "Ada L."
    assert profile.profile_image_url == "https://files.example/ada.png"
    assert profile.profile_url == f"{mastodon_sim.base_url}/@ada"
    assert profile.access_token_expires_at is None  # Mastodon tokens do not expire
    assert dict(profile.options) == {
        "instanceUrl": mastodon_sim.base_url,
        "username": "ada",
        "maxCharacters": 500,
        "maxMediaAttachments": 4,
    }


def test_verify_with_a_wrong_token_names_mastodon_and_the_reason(
    mastodon_sim: MastodonControl,
) -> None:
    with pytest.raises(AuthExpiredError) as caught:
        verify(mastodon_sim.base_url, token="mtok-wrong-0000")
    assert caught.value.message == "Mastodon refused the access token: The access token is invalid"
    assert caught.value.http_status == 401
    assert "mtok-wrong-0000" not in repr(caught.value)


def test_verify_of_an_unreachable_instance_is_retryable() -> None:
    with pytest.raises(RetryableError, match="Could not reach the Mastodon instance"):
        verify(f"http://127.0.0.1:{closed_port()}")


@pytest.mark.parametrize(
    ("credentials", "options", "match"),
    [
        ({}, {"instanceUrl": "https://mastodon.example"}, "accessToken"),
        ({"accessToken": "t"}, {}, "instanceUrl"),
        ({"accessToken": "t"}, {"instanceUrl": "mastodon.social"}, "instanceUrl"),
        ({"accessToken": "t"}, {"instanceUrl": "https://"}, "instanceUrl"),
    ],
)
def test_verify_refuses_an_unusable_connection(
    credentials: dict[str, str], options: dict[str, str], match: str
) -> None:
    async def call() -> None:
        async with platform_client() as http:
            await connector.verify(http, credentials, options)

    with pytest.raises(RejectedError, match=match):
        asyncio.run(call())


def test_a_text_status_is_public_and_carries_the_idempotency_key(
    mastodon_sim: MastodonControl,
) -> None:
    published = publish(
        mastodon_request(mastodon_sim.base_url, text="Hello <world> & you"), "key-42"
    )
    [status] = mastodon_sim.statuses()
    assert published == Published(status["id"], f"{mastodon_sim.base_url}/@ada/{status['id']}")
    assert status["text"] == "Hello <world> & you"
    assert (status["visibility"], status["in_reply_to_id"]) == ("public", None)
    assert status["idempotency_key"] == "key-42"
    assert mastodon_sim.stats()["idempotency_keys"] == ["key-42"]


def test_a_resend_with_the_same_key_returns_the_same_status(mastodon_sim: MastodonControl) -> None:
    request = mastodon_request(mastodon_sim.base_url)
    first = publish(request, "same-key")
    assert publish(request, "same-key") == first
    stats = mastodon_sim.stats()
    assert (stats["statuses"], stats["replays"], stats["keyed"]) == (1, 1, 2)
    assert publish(request, "other-key") != first  # a new key is a new status


def test_a_thread_of_three_parts_replies_to_each_previous_part(
    mastodon_sim: MastodonControl,
) -> None:
    ids: list[str] = []
    for part in range(3):
        request = mastodon_request(
            mastodon_sim.base_url,
            text=f"Part {part + 1} of 3",
            part_index=part,
            part_count=3,
            reply_to_id=ids[-1] if ids else None,
            root_id=ids[0] if ids else None,
        )
        ids.append(publish(request, f"key:{part}").external_id)
    statuses = {status["id"]: status for status in mastodon_sim.statuses()}
    assert [statuses[i]["in_reply_to_id"] for i in ids] == [None, ids[0], ids[1]]
    context = mastodon_sim.api("GET", f"/api/v1/statuses/{ids[0]}/context").json()
    assert [status["id"] for status in context["descendants"]] == ids[1:]


def test_text_over_500_graphemes_is_rejected_with_mastodons_message(
    mastodon_sim: MastodonControl,
) -> None:
    text = "\U0001f44d\U0001f3fd" * 501  # two code points each, one grapheme each
    with pytest.raises(RejectedError) as caught:
        publish(mastodon_request(mastodon_sim.base_url, text=text))
    assert caught.value.message == (
        "Mastodon rejected the status: Validation failed: Text character limit of 500 exceeded"
    )
    assert caught.value.http_status == 422
    assert mastodon_sim.stats()["statuses"] == 0


def test_a_long_url_counts_as_23_characters(mastodon_sim: MastodonControl) -> None:
    url = "https://example.com/" + "deep/" * 60
    text = "a" * 470 + " " + url
    assert len(text) > 700
    assert measure(Platform.MASTODON, text) == 494
    published = publish(mastodon_request(mastodon_sim.base_url, text=text))
    assert mastodon_sim.statuses()[0]["id"] == published.external_id


def test_a_reply_to_a_missing_status_is_rejected(mastodon_sim: MastodonControl) -> None:
    with pytest.raises(RejectedError, match="does not appear to exist") as caught:
        publish(mastodon_request(mastodon_sim.base_url, reply_to_id="113999999999999999"))
    assert caught.value.http_status == 404


@pytest.mark.parametrize("reset_format", ["iso", "epoch"])
def test_a_rate_limit_waits_until_the_reset(
    mastodon_sim: MastodonControl, reset_format: str
) -> None:
    mastodon_sim.configure(retry_after_s=7, reset_format=reset_format)
    mastodon_sim.script("rate_limit")
    with pytest.raises(RetryableError) as caught:
        publish(mastodon_request(mastodon_sim.base_url))
    assert caught.value.rate_limited
    assert caught.value.http_status == 429
    assert caught.value.retry_after is not None
    # The epoch form is rounded up to a whole second.
    assert 5.0 <= caught.value.retry_after <= (7.0 if reset_format == "iso" else 8.0)
    assert mastodon_sim.stats()["statuses"] == 0


def test_the_accounts_request_window_is_a_rate_limit_too(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(rate_limit=2, rate_window_s=3600)  # too long a window to end mid-test
    publish(mastodon_request(mastodon_sim.base_url), "k1")
    publish(mastodon_request(mastodon_sim.base_url), "k2")
    with pytest.raises(RetryableError) as caught:
        publish(mastodon_request(mastodon_sim.base_url), "k3")
    assert caught.value.rate_limited
    assert caught.value.retry_after is not None
    assert 0 <= caught.value.retry_after <= 3600


def test_a_refused_token_is_auth_expired_and_never_echoed(mastodon_sim: MastodonControl) -> None:
    for credentials in ({"accessToken": "mtok-revoked-77"}, {}):
        with pytest.raises(AuthExpiredError) as caught:
            publish(mastodon_request(mastodon_sim.base_url, credentials=credentials))
        assert "Mastodon" in caught.value.message
        assert "mtok-revoked-77" not in repr(caught.value)
        assert TOKEN not in repr(caught.value)
    assert mastodon_sim.stats()["statuses"] == 0


def test_the_rejected_fault_carries_mastodons_message(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.script("rejected")
    with pytest.raises(RejectedError, match="rejected by fault injection"):
        publish(mastodon_request(mastodon_sim.base_url))


@pytest.mark.parametrize("fault", ["unavailable", "timeout"])
def test_a_5xx_or_a_lost_answer_leaves_the_outcome_unknown(
    mastodon_sim: MastodonControl, fault: str
) -> None:
    mastodon_sim.script(fault)
    with pytest.raises(OutcomeUnknownError, match="may exist"):
        publish(mastodon_request(mastodon_sim.base_url))
    assert (
        mastodon_sim.stats()["statuses"] == 0
    )  # nothing was created, but the connector cannot know


def test_a_refused_connection_is_retryable() -> None:
    with pytest.raises(RetryableError, match="ConnectError") as caught:
        publish(mastodon_request(f"http://127.0.0.1:{closed_port()}"))
    assert not caught.value.rate_limited


def test_the_status_request_body_is_what_mastodon_documents(mastodon_sim: MastodonControl) -> None:
    published = publish(mastodon_request(mastodon_sim.base_url, text="Just text"))
    status = mastodon_sim.api("GET", f"/api/v1/statuses/{published.external_id}").json()
    assert status["content"] == "<p>Just text</p>"
    assert (status["visibility"], status["media_attachments"]) == ("public", [])
    assert status["account"]["id"] == ADA.id
