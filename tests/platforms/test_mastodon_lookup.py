"""MastodonConnector after an in-doubt publish: the outcome is unknown, and lookup finds the
status in the account's timeline, or says for sure that there is none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.platforms.base import OutcomeUnknownError, Published, RetryableError
from herald.platforms.mastodon import lookup as lookup_module
from mastodon_support import (
    BOB,
    PNG,
    MastodonControl,
    lookup,
    mastodon_request,
    media_item,
    publish,
)
from sim_support import closed_port


@pytest.mark.parametrize("fault", ["error_after_create", "lost_response"])
def test_an_in_doubt_status_is_outcome_unknown_then_found(
    mastodon_sim: MastodonControl, fault: str
) -> None:
    mastodon_sim.script(fault)
    request = mastodon_request(mastodon_sim.base_url, text="Launch day!")
    with pytest.raises(OutcomeUnknownError):
        publish(request, "key-1")
    [status] = mastodon_sim.statuses()
    found = lookup(request, "key-1")
    assert found == Published(status["id"], status["url"])
    # Within the hour, the reconciler may also re-send: Mastodon replays the same status.
    assert publish(request, "key-1") == found
    assert mastodon_sim.stats()["statuses"] == 1


def test_a_never_created_status_is_looked_up_as_none(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.post_status("Something else entirely")
    assert lookup(mastodon_request(mastodon_sim.base_url, text="Never sent")) is None


def test_an_account_without_statuses_has_none(mastodon_sim: MastodonControl) -> None:
    assert lookup(mastodon_request(mastodon_sim.base_url)) is None


def test_lookup_tells_apart_statuses_with_different_parents(mastodon_sim: MastodonControl) -> None:
    first_root = mastodon_sim.post_status("Thread one")
    second_root = mastodon_sim.post_status("Thread two")
    reply_one = mastodon_sim.post_status("Same words", in_reply_to_id=first_root["id"])
    reply_two = mastodon_sim.post_status("Same words", in_reply_to_id=second_root["id"])
    for root, reply in ((first_root, reply_one), (second_root, reply_two)):
        request = mastodon_request(mastodon_sim.base_url, text="Same words", reply_to_id=root["id"])
        assert lookup(request) == Published(reply["id"], reply["url"])
    assert (
        lookup(mastodon_request(mastodon_sim.base_url, text="Same words")) is None
    )  # no root has it


def test_lookup_matches_text_as_mastodon_renders_it(mastodon_sim: MastodonControl) -> None:
    text = (
        'Tickets <now> & "soon" at https://example.com/a/very/long/path/to/the/tickets/page\n\n'
        "Thanks @bob@elsewhere.example and @nobody@far.example! #launch"
    )
    created = mastodon_sim.post_status(text)
    assert "<p>" in created["content"]  # rendered as HTML, not returned as text
    assert lookup(mastodon_request(mastodon_sim.base_url, text=text)) == Published(
        created["id"], created["url"]
    )


def test_lookup_requires_the_same_number_of_media(mastodon_sim: MastodonControl) -> None:
    request = mastodon_request(
        mastodon_sim.base_url, text="With a picture", media=(media_item(PNG),)
    )
    mastodon_sim.post_status("With a picture")  # same words, no media: not this request's status
    assert lookup(request) is None
    published = publish(request)
    assert lookup(request) == published


def test_lookup_only_reads_the_accounts_own_statuses(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.post_status("Hello from Herald", token=BOB.token)
    assert lookup(mastodon_request(mastodon_sim.base_url)) is None
    assert lookup(mastodon_request(mastodon_sim.base_url, account_external_id=BOB.id)) is not None


def test_statuses_older_than_the_scheduled_time_are_not_candidates(
    mastodon_sim: MastodonControl,
) -> None:
    mastodon_sim.post_status("Good morning")
    later = datetime.now(UTC) + timedelta(hours=1)
    assert (
        lookup(mastodon_request(mastodon_sim.base_url, text="Good morning", scheduled_at=later))
        is None
    )
    earlier = datetime.now(UTC) - timedelta(minutes=1)
    found = lookup(
        mastodon_request(mastodon_sim.base_url, text="Good morning", scheduled_at=earlier)
    )
    assert found is not None


def test_the_search_reads_older_pages(
    mastodon_sim: MastodonControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup_module, "PAGE_SIZE", 2)
    target = mastodon_sim.post_status("The oldest")
    for n in range(5):
        mastodon_sim.post_status(f"Newer {n}")
    assert lookup(mastodon_request(mastodon_sim.base_url, text="The oldest")) == Published(
        target["id"], target["url"]
    )
    assert mastodon_sim.stats()["timelines"] == 3


def test_an_unfinished_search_is_unknown_not_none(
    mastodon_sim: MastodonControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup_module, "PAGE_SIZE", 2)
    monkeypatch.setattr(lookup_module, "PAGES", 2)
    for n in range(5):
        mastodon_sim.post_status(f"Status {n}")
    with pytest.raises(RetryableError, match="cannot tell yet"):
        lookup(mastodon_request(mastodon_sim.base_url, text="Somewhere far back"))


def test_lookup_failures_are_retryable(mastodon_sim: MastodonControl) -> None:
    revoked = mastodon_request(
        mastodon_sim.base_url, credentials={"accessToken": "mtok-revoked-77"}
    )
    with pytest.raises(RetryableError, match="access token") as caught:
        lookup(revoked)
    assert caught.value.http_status == 401
    unknown_account = mastodon_request(mastodon_sim.base_url, account_external_id="1")
    with pytest.raises(RetryableError, match="Record not found"):
        lookup(unknown_account)
    with pytest.raises(RetryableError, match="ConnectError"):
        lookup(mastodon_request(f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(RetryableError, match="access token"):
        lookup(mastodon_request(mastodon_sim.base_url, credentials={}))
