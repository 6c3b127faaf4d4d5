"""MastodonConnector's media over real HTTP: streamed uploads with alt text, waiting for video
processing, and the failures that leave no status behind."""

from __future__ import annotations

import asyncio
import hashlib
import re

import pytest

from herald.platforms.base import MediaItem, OutcomeUnknownError, RejectedError, RetryableError
from herald.platforms.mastodon import MastodonConnector
from herald.platforms.mastodon.media import ProcessingWait
from mastodon_support import (
    MP4,
    PNG,
    MastodonControl,
    failing_media,
    mastodon_request,
    media_item,
    publish,
)
from sim_support import platform_client


def test_images_are_uploaded_intact_with_their_alt_text(mastodon_sim: MastodonControl) -> None:
    second = PNG[::-1]
    media = (
        media_item(PNG, alt="A cat on a mat"),
        media_item(second, content_type="image/jpeg", alt="Ünïcode alt — ✓"),
    )
    published = publish(mastodon_request(mastodon_sim.base_url, text="Two pictures", media=media))
    uploads = mastodon_sim.media()
    [status] = mastodon_sim.statuses()
    assert status["media_ids"] == [m["id"] for m in uploads]
    assert [(m["size"], m["sha256"]) for m in uploads] == [
        (len(PNG), hashlib.sha256(PNG).hexdigest()),
        (len(second), hashlib.sha256(second).hexdigest()),
    ]
    assert [m["description"] for m in uploads] == ["A cat on a mat", "Ünïcode alt — ✓"]
    assert [m["content_type"] for m in uploads] == ["image/png", "image/jpeg"]
    entity = mastodon_sim.api("GET", f"/api/v1/statuses/{published.external_id}").json()
    assert [m["description"] for m in entity["media_attachments"]] == [
        "A cat on a mat",
        "Ünïcode alt — ✓",
    ]


def test_an_image_without_alt_text_sends_no_description(mastodon_sim: MastodonControl) -> None:
    publish(mastodon_request(mastodon_sim.base_url, media=(media_item(PNG),)))
    assert mastodon_sim.media()[0]["description"] is None


def test_a_video_is_awaited_until_mastodon_has_processed_it(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(processing_delay_s=1.0)  # far beyond the first poll, 0.05 s after upload
    video = media_item(MP4, kind="video", content_type="video/mp4", alt="A short clip")
    published = publish(mastodon_request(mastodon_sim.base_url, text="A video", media=(video,)))
    stats = mastodon_sim.stats()
    assert stats["still_processing"] >= 1  # answered 206 at least once ...
    assert stats["polls"] == stats["still_processing"] + 1  # ... then 200, and then no more
    [upload] = mastodon_sim.media()
    assert (upload["type"], upload["size"], upload["status_id"]) == (
        "video",
        len(MP4),
        published.external_id,
    )


def test_failed_processing_is_rejected_and_posts_nothing(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.script_media("fail")
    video = media_item(MP4, kind="video", content_type="video/mp4")
    with pytest.raises(RejectedError) as caught:
        publish(mastodon_request(mastodon_sim.base_url, media=(video,)))
    assert caught.value.message == (
        "Mastodon could not process the media file: Error processing thumbnail for uploaded media"
    )
    assert mastodon_sim.stats()["statuses"] == 0


def test_processing_longer_than_the_budget_is_retryable(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(processing_delay_s=30)
    impatient = MastodonConnector(ProcessingWait(first_delay_s=0.05, budget_s=0.3))
    request = mastodon_request(
        mastodon_sim.base_url, media=(media_item(MP4, kind="video", content_type="video/mp4"),)
    )

    async def call() -> None:
        async with platform_client() as http:
            await impatient.publish(http, request, "k")

    with pytest.raises(RetryableError, match=r"still processing the media file after 0\.3 s"):
        asyncio.run(call())
    assert mastodon_sim.stats()["statuses"] == 0


def test_an_image_that_fails_processing_is_retryable(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.script_media("fail")  # images are processed during the upload: a 500
    with pytest.raises(RetryableError, match="Error processing thumbnail") as caught:
        publish(mastodon_request(mastodon_sim.base_url, media=(media_item(PNG),)))
    assert caught.value.http_status == 500
    assert mastodon_sim.stats()["statuses"] == 0


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            media_item(b"%PDF-1.7", content_type="application/pdf"),
            "File content type is invalid",
        ),
        (media_item(PNG, alt="x" * 1501), "Description is too long (maximum is 1500 characters)"),
    ],
)
def test_files_mastodon_refuses_are_rejected(
    mastodon_sim: MastodonControl, item: MediaItem, message: str
) -> None:
    with pytest.raises(RejectedError, match=re.escape(message)) as caught:
        publish(mastodon_request(mastodon_sim.base_url, media=(item,)))
    assert caught.value.http_status == 422
    assert mastodon_sim.stats()["statuses"] == 0


def test_a_file_over_the_instances_size_limit_is_rejected(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(image_size_limit=1024)
    with pytest.raises(RejectedError, match="must be less than 1 KB"):
        publish(mastodon_request(mastodon_sim.base_url, media=(media_item(PNG),)))


def test_a_media_file_that_cannot_be_read_is_retryable(mastodon_sim: MastodonControl) -> None:
    with pytest.raises(RetryableError, match="FileNotFoundError"):
        publish(mastodon_request(mastodon_sim.base_url, media=(failing_media(),)))
    assert mastodon_sim.stats()["statuses"] == 0


def test_an_item_without_bytes_is_rejected(mastodon_sim: MastodonControl) -> None:
    request = mastodon_request(
        mastodon_sim.base_url, media=(MediaItem("image", "image/png", "https://cdn.example/a.png"),)
    )
    with pytest.raises(RejectedError, match="bytes"):
        publish(request)


def test_a_retried_publish_uploads_again_and_keeps_one_status(
    mastodon_sim: MastodonControl,
) -> None:
    mastodon_sim.script("unavailable")
    request = mastodon_request(mastodon_sim.base_url, media=(media_item(PNG),))
    with pytest.raises(OutcomeUnknownError):
        publish(request, "k")
    first = publish(request, "k")
    assert [s["id"] for s in mastodon_sim.statuses()] == [first.external_id]
    uploads = mastodon_sim.media()
    assert len(uploads) == 2  # the first upload is an orphan; Mastodon cleans those up
    assert [m["status_id"] for m in uploads] == [None, first.external_id]


def test_polls_back_off_up_to_a_cap_and_stop_at_the_budget() -> None:
    delays = list(ProcessingWait(first_delay_s=1, factor=2, max_delay_s=5, budget_s=20).delays())
    assert delays == [1, 2, 4, 5, 5, 3]
    assert sum(ProcessingWait().delays()) == pytest.approx(120)


@pytest.mark.parametrize(
    "wait", [{"first_delay_s": 0}, {"factor": 0.5}, {"first_delay_s": 9, "max_delay_s": 5}]
)
def test_a_wait_that_would_never_end_is_refused(wait: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="delays"):
        ProcessingWait(**wait)
