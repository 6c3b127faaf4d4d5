"""Bluesky media over real HTTP: images with alt text and aspect ratio, a video, and what the PDS
or the lexicon refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bluesky_support import BlueskyControl, bluesky_request, media_item, png, publish, running_sim
from herald.platforms.base import MediaItem, RejectedError
from herald.platforms.bluesky import BlueskyConnector

VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(5000)  # the start of an MP4, then padding


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with running_sim() as base_url:
        yield base_url


@pytest.fixture
def sim(sim_url: str) -> Iterator[BlueskyControl]:
    control = BlueskyControl(sim_url)
    control.reset()
    yield control
    control.close()


@pytest.fixture
def connector() -> BlueskyConnector:
    return BlueskyConnector()


def embed_of(sim: BlueskyControl) -> dict[str, Any]:
    [record] = sim.records()
    embed: dict[str, Any] = record["value"]["embed"]
    return embed


def test_images_carry_alt_text_and_aspect_ratio(
    sim: BlueskyControl, connector: BlueskyConnector
) -> None:
    wide, tall = png(1200, 800), png(300, 900)
    media = (media_item(wide, alt="A wide blue field"), media_item(tall))
    publish(connector, bluesky_request(sim.base_url, media=media))
    blobs = sim.blobs()
    assert [(blob["mimeType"], blob["size"]) for blob in blobs] == [
        ("image/png", len(wide)),
        ("image/png", len(tall)),
    ]
    embed = embed_of(sim)
    assert embed["$type"] == "app.bsky.embed.images"
    assert embed["images"] == [
        {
            "image": {key: blobs[0][key] for key in ("$type", "ref", "mimeType", "size")},
            "alt": "A wide blue field",
            "aspectRatio": {"width": 1200, "height": 800},
        },
        {
            "image": {key: blobs[1][key] for key in ("$type", "ref", "mimeType", "size")},
            "alt": "",  # no alt text given: the lexicon still wants the field
            "aspectRatio": {"width": 300, "height": 900},
        },
    ]


def test_four_images_fit_and_a_fifth_is_refused_before_any_upload(
    sim: BlueskyControl, connector: BlueskyConnector
) -> None:
    image = png(10, 10)
    with pytest.raises(RejectedError, match="at most 4 images"):
        publish(connector, bluesky_request(sim.base_url, media=(media_item(image),) * 5))
    assert (sim.blobs(), sim.stats()["sessions"]["created"]) == ([], 0)
    publish(connector, bluesky_request(sim.base_url, media=(media_item(image),) * 4))
    assert len(embed_of(sim)["images"]) == 4


def test_a_video_is_uploaded_and_embedded(sim: BlueskyControl, connector: BlueskyConnector) -> None:
    video = media_item(VIDEO_BYTES, "video", "video/mp4", alt="A short clip")
    publish(connector, bluesky_request(sim.base_url, media=(video,)))
    [blob] = sim.blobs()
    assert (blob["mimeType"], blob["size"]) == ("video/mp4", len(VIDEO_BYTES))
    assert embed_of(sim) == {
        "$type": "app.bsky.embed.video",
        "video": {key: blob[key] for key in ("$type", "ref", "mimeType", "size")},
        "alt": "A short clip",
    }


@pytest.mark.parametrize(
    ("media", "message"),
    [
        (("image", "video"), "not both"),
        (("video", "video"), "one video"),
        (("document",), "kind document"),
    ],
)
def test_mixes_bluesky_cannot_show_are_refused(
    sim: BlueskyControl, connector: BlueskyConnector, media: tuple[str, ...], message: str
) -> None:
    items = tuple(media_item(b"x", kind, "video/mp4") for kind in media)
    with pytest.raises(RejectedError, match=message):
        publish(connector, bluesky_request(sim.base_url, media=items))
    assert sim.blobs() == []


def test_a_file_over_the_upload_limit_is_rejected_with_a_clear_message(
    sim: BlueskyControl, connector: BlueskyConnector
) -> None:
    sim.configure(blob_limit_bytes=2000)
    with pytest.raises(RejectedError) as caught:
        publish(connector, bluesky_request(sim.base_url, media=(media_item(bytes(2001)),)))
    assert caught.value.message == (
        "Bluesky refused the image upload as too large: PayloadTooLarge: request entity too large"
    )
    assert caught.value.http_status == 413
    assert sim.records() == []


def test_an_image_whose_size_cannot_be_read_posts_without_an_aspect_ratio(
    sim: BlueskyControl, connector: BlueskyConnector
) -> None:
    media = (media_item(b"\xff\xd8 not really a jpeg", content_type="image/jpeg", alt="?"),)
    publish(connector, bluesky_request(sim.base_url, media=media))
    [image] = embed_of(sim)["images"]
    assert "aspectRatio" not in image
    assert image["alt"] == "?"


def test_an_upload_after_a_stale_session_streams_the_file_again(
    sim: BlueskyControl, connector: BlueskyConnector
) -> None:
    publish(connector, bluesky_request(sim.base_url), "warm-up")
    sim.expire_tokens()
    opened: list[int] = []
    data = png(64, 48)

    async def chunks() -> AsyncIterator[bytes]:
        opened.append(1)
        for start in range(0, len(data), 100):
            yield data[start : start + 100]

    item = MediaItem("image", "image/png", "https://cdn.example/x.png", "x", chunks)
    publish(connector, bluesky_request(sim.base_url, media=(item,)), "with-image")
    assert len(opened) == 2  # refused once as ExpiredToken, then sent whole after the refresh
    [blob] = sim.blobs()
    assert blob["size"] == len(data)
    image = next(r for r in sim.records() if "embed" in r["value"])["value"]["embed"]["images"][0]
    assert image["aspectRatio"] == {"width": 64, "height": 48}


def test_media_without_readable_bytes_is_refused(
    sim: BlueskyControl, connector: BlueskyConnector
) -> None:
    item = MediaItem("image", "image/png", "https://cdn.example/x.png")
    with pytest.raises(RejectedError, match="cannot be read"):
        publish(connector, bluesky_request(sim.base_url, media=(item,)))
