"""XConnector against the X simulator over loopback: verify, tweets and threads, replies and
quotes, faults, and the lookup that settles an in-doubt tweet."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from herald.domain.platform import Platform
from herald.domain.timestamps import utc_now
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    AuthExpiredError,
    MediaItem,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishError,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.x import XConnector
from herald.platforms.x.media import UploadRules
from sim_support import platform_client
from x_support import ADA, BOB, MP4, PNG, XControl, x_sim, x_sim_url

__all__ = ["x_sim", "x_sim_url"]  # fixtures, found by pytest through the module's names
connector = XConnector()


def _run(call: Callable[[HttpClient], Awaitable[Any]]) -> Any:
    async def scenario() -> Any:
        async with platform_client() as http:
            return await call(http)

    return asyncio.run(scenario())


def x_request(sim: XControl, token: str, **fields: Any) -> PublishRequest:
    values: dict[str, Any] = {
        "target_id": "target-1",
        "platform": Platform.TWITTER,
        "account_external_id": ADA.id,
        "text": "Hello from Herald",
        "options": {"apiUrl": sim.base_url, "username": ADA.username},
        "credentials": {"accessToken": token},
        "scheduled_at": utc_now() - timedelta(seconds=5),
    }
    values.update(fields)
    return PublishRequest(**values)


def publish(request: PublishRequest) -> Published:
    published: Published = _run(lambda http: connector.publish(http, request, "key-1"))
    return published


def publish_error(request: PublishRequest) -> PublishError:
    with pytest.raises(PublishError) as caught:
        publish(request)
    return caught.value


def lookup(request: PublishRequest) -> Published | None:
    found: Published | None = _run(lambda http: connector.lookup(http, request, "key-1"))
    return found


def test_verify_reads_the_token_s_user(x_sim: XControl) -> None:
    credentials, options = {"accessToken": x_sim.token()}, {"apiUrl": x_sim.base_url}
    profile: Profile = _run(lambda http: connector.verify(http, credentials, options))
    assert (profile.external_id, profile.username, profile.display_name) == (
        ADA.id,
        "@ada",
        ADA.name,
    )
    assert profile.profile_image_url == ADA.profile_image_url
    assert profile.options["username"] == "ada"


def test_verify_with_a_revoked_token_needs_reauthorisation(x_sim: XControl) -> None:
    token = x_sim.token()
    x_sim.revoke_app(ADA)
    credentials, options = {"accessToken": token}, {"apiUrl": x_sim.base_url}
    with pytest.raises(AuthExpiredError):
        _run(lambda http: connector.verify(http, credentials, options))


def test_a_tweet_is_created_with_its_url(x_sim: XControl) -> None:
    published = publish(x_request(x_sim, x_sim.token(), text="Hello https://example.com/a"))
    [tweet] = x_sim.tweets(ADA)
    assert published == Published(tweet["id"], f"https://x.com/ada/status/{tweet['id']}")
    assert tweet["text"] == "Hello https://example.com/a"


def test_a_thread_chains_each_part_to_the_one_before(x_sim: XControl) -> None:
    token, ids = x_sim.token(), []
    for index, text in enumerate(["One [1/3]", "Two [2/3]", "Three [3/3]"]):
        previous = ids[-1] if ids else None
        request = x_request(
            x_sim, token, text=text, part_index=index, part_count=3, reply_to_id=previous
        )
        ids.append(publish(request).external_id)
    tweets = x_sim.tweets(ADA)
    assert [t["id"] for t in tweets] == ids
    assert [t["in_reply_to_tweet_id"] for t in tweets] == [None, ids[0], ids[1]]


def test_reply_and_quote_settings_apply_to_the_first_part(x_sim: XControl) -> None:
    bobs = x_sim.tweet(x_sim.token(BOB), "Bob asks something")["id"]
    settings = {"replyTo": bobs, "quoteTweet": bobs}
    published = publish(x_request(x_sim, x_sim.token(), settings=settings))
    [tweet] = x_sim.tweets(ADA)
    assert tweet["id"] == published.external_id
    assert (tweet["in_reply_to_tweet_id"], tweet["quote_tweet_id"]) == (bobs, bobs)


def test_a_reply_to_a_deleted_tweet_is_x_target_rejected(x_sim: XControl) -> None:
    bob = x_sim.token(BOB)
    bobs = x_sim.tweet(bob, "Soon gone")["id"]
    assert x_sim.api("DELETE", f"/2/tweets/{bobs}", bob).status_code == 200
    caught = publish_error(x_request(x_sim, x_sim.token(), settings={"replyTo": bobs}))
    assert isinstance(caught, RejectedError)
    assert caught.code == "X_TARGET_REJECTED"
    assert x_sim.tweets(ADA) == []


def test_text_over_the_weighted_limit_is_rejected(x_sim: XControl) -> None:
    caught = publish_error(x_request(x_sim, x_sim.token(), text="日" * 141))
    assert isinstance(caught, RejectedError)


def test_an_expired_token_needs_reauthorisation(x_sim: XControl) -> None:
    token = x_sim.token()
    x_sim.expire_tokens(ADA)
    assert isinstance(publish_error(x_request(x_sim, token)), AuthExpiredError)
    assert x_sim.tweets(ADA) == []


def test_a_refused_tweet_is_rejected(x_sim: XControl) -> None:
    x_sim.script("rejected")
    assert isinstance(publish_error(x_request(x_sim, x_sim.token())), RejectedError)
    assert x_sim.tweets(ADA) == []


@pytest.mark.parametrize("fault", ["unavailable", "timeout"])
def test_a_failure_after_sending_is_in_doubt_until_lookup_says_no_tweet(
    x_sim: XControl, fault: str
) -> None:
    # X may have stored a tweet before a 5xx or a hang-up: only the lookup can tell.
    request = x_request(x_sim, x_sim.token())
    x_sim.script(fault)
    assert isinstance(publish_error(request), OutcomeUnknownError)
    assert x_sim.tweets(ADA) == []
    assert lookup(request) is None


def test_a_rate_limit_holds_the_connection(x_sim: XControl) -> None:
    x_sim.configure(retry_after_s=30)
    x_sim.script("rate_limit")
    caught = publish_error(x_request(x_sim, x_sim.token()))
    assert isinstance(caught, RetryableError)
    assert caught.rate_limited
    assert caught.retry_after is not None
    assert 25 <= caught.retry_after <= 31


@pytest.mark.parametrize("fault", ["error_after_create", "lost_response"])
def test_an_in_doubt_tweet_is_found_by_lookup(x_sim: XControl, fault: str) -> None:
    token = x_sim.token()
    request = x_request(x_sim, token, text="In doubt & found https://example.com/x?a=1")
    x_sim.script(fault)
    assert isinstance(publish_error(request), OutcomeUnknownError)
    [tweet] = x_sim.tweets(ADA)
    assert lookup(request) == Published(tweet["id"], f"https://x.com/ada/status/{tweet['id']}")


def test_lookup_tells_parts_of_one_thread_apart(x_sim: XControl) -> None:
    token = x_sim.token()
    head = publish(x_request(x_sim, token, text="Same words")).external_id
    x_sim.script("lost_response")
    part = x_request(x_sim, token, text="Same words.", part_index=1, reply_to_id=head)
    assert isinstance(publish_error(part), OutcomeUnknownError)
    found = lookup(part)
    assert found is not None
    assert found.external_id != head
    assert lookup(x_request(x_sim, token, text="Same words.", part_index=1)) is None


def test_lookup_finds_nothing_that_was_never_created(x_sim: XControl) -> None:
    token = x_sim.token()
    publish(x_request(x_sim, token, text="Something else"))
    assert lookup(x_request(x_sim, token, text="Never sent")) is None


def test_a_resend_refused_as_duplicate_settles_on_the_existing_tweet(x_sim: XControl) -> None:
    token = x_sim.token()
    first = publish(x_request(x_sim, token, text="Only once"))
    again = publish(x_request(x_sim, token, text="Only once"))
    assert again == first
    assert len(x_sim.tweets(ADA)) == 1
    assert x_sim.stats()["duplicates"] == 1


def test_a_lagging_timeline_never_leads_to_a_second_tweet(x_sim: XControl) -> None:
    x_sim.configure(timeline_delay_s=1.0)
    token = x_sim.token()
    request = x_request(x_sim, token, text="Slow to show")
    earlier = x_sim.tweet(token, "Slow to show")  # an attempt whose answer was lost
    assert lookup(request) is None  # not in the timeline yet: the engine sends again
    resend = publish_error(request)  # X refuses the duplicate; not found yet: retry later
    assert isinstance(resend, RetryableError)
    time.sleep(1.1)
    assert publish(request).external_id == earlier["id"]
    assert len(x_sim.tweets(ADA)) == 1


def _file(data: bytes, kind: str, content_type: str, alt: str | None = None) -> MediaItem:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 64 * 1024):  # as the media store streams
            yield data[start : start + 64 * 1024]

    return MediaItem(kind, content_type, "https://cdn.example/f", alt, chunks, len(data))


def test_images_are_uploaded_in_chunks_and_attached(x_sim: XControl) -> None:
    small = XConnector(UploadRules(chunk_bytes=4000))
    items = (_file(PNG, "image", "image/png", "A cat"), _file(PNG[:5000], "image", "image/png"))
    request = x_request(x_sim, x_sim.token(), media=items)
    published: Published = _run(lambda http: small.publish(http, request, "key-1"))
    [tweet] = x_sim.tweets(ADA)
    assert tweet["id"] == published.external_id
    media = {m["id"]: m for m in x_sim.media()}
    uploaded = [media[media_id] for media_id in tweet["media_ids"]]
    assert [m["sha256"] for m in uploaded] == [
        hashlib.sha256(PNG).hexdigest(),
        hashlib.sha256(PNG[:5000]).hexdigest(),
    ]
    assert [m["segments"] for m in uploaded] == [[0, 1, 2], [0, 1]]  # 10,248 bytes: 3 chunks
    assert len(PNG) == 10_248


def test_a_video_is_waited_for_until_x_has_processed_it(x_sim: XControl) -> None:
    request = x_request(x_sim, x_sim.token(), media=(_file(MP4, "video", "video/mp4"),))
    publish(request)
    [tweet] = x_sim.tweets(ADA)
    [video] = x_sim.media()
    assert tweet["media_ids"] == [video["id"]]
    assert (video["media_category"], video["state"]) == ("tweet_video", "succeeded")
    assert x_sim.stats()["status_polls"] >= 1


def test_a_video_x_cannot_process_is_rejected_before_any_tweet(x_sim: XControl) -> None:
    x_sim.script_media("fail")
    request = x_request(x_sim, x_sim.token(), media=(_file(MP4, "video", "video/mp4"),))
    assert isinstance(publish_error(request), RejectedError)
    assert x_sim.tweets(ADA) == []
