"""Bluesky media over real HTTP: images with alt text and aspect ratio, a video, and what the PDS
or the lexicon refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bluesky_support import BlueskyControl, bluesky_request, media_item, png, publish
from herald.platforms.base import MediaItem, RejectedError
from herald.platforms.bluesky import BlueskyConnector

VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(5000)  # the start of an MP4, then padding


def embed_of(bluesky_sim: BlueskyControl) -> dict[str, Any]:
    [record] = bluesky_sim.records()
    embed: dict[str, Any] = record["value"]["embed"]
    return embed


def test_images_carry_alt_text_and_aspect_ratio(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    wide, tall = png(1200, 800), png(300, 900)
    media = (media_item(wide, alt="A wide blue field"), media_item(tall))
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, media=media))
    blobs = bluesky_sim.blobs()
    assert [(blob["mimeType"], blob["size"]) for blob in blobs] == [
        ("image/png", len(wide)),
        ("image/png", len(tall)),
    ]
    embed = embed_of(bluesky_sim)
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
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    image = png(10, 10)
    with pytest.raises(RejectedError, match="at most 4 images"):
        publish(
            bluesky_connector, bluesky_request(bluesky_sim.base_url, media=(media_item(image),) * 5)
        )
    assert (bluesky_sim.blobs(), bluesky_sim.stats()["sessions"]["created"]) == ([], 0)
    publish(
        bluesky_connector, bluesky_request(bluesky_sim.base_url, media=(media_item(image),) * 4)
    )
    assert len(embed_of(bluesky_sim)["images"]) == 4


def test_a_video_is_uploaded_and_embedded(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    video = media_item(VIDEO_BYTES, "video", "video/mp4", alt="A short clip")
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, media=(video,)))
    [blob] = bluesky_sim.blobs()
    assert (blob["mimeType"], blob["size"]) == ("video/mp4", len(VIDEO_BYTES))
    assert embed_of(bluesky_sim) == {
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
    bluesky_sim: BlueskyControl,
    bluesky_connector: BlueskyConnector,
    media: tuple[str, ...],
    message: str,
) -> None:
    items = tuple(media_item(b"x", kind, "video/mp4") for kind in media)
    with pytest.raises(RejectedError, match=message):
        publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, media=items))
    assert bluesky_sim.blobs() == []


def test_a_file_over_the_upload_limit_is_rejected_with_a_clear_message(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    bluesky_sim.configure(blob_limit_bytes=2000)
    with pytest.raises(RejectedError) as caught:
        publish(
            bluesky_connector,
            bluesky_request(bluesky_sim.base_url, media=(media_item(bytes(2001)),)),
        )
    assert caught.value.message == (
        "Bluesky refused the image upload as too large: PayloadTooLarge: request entity too large"
    )
    assert caught.value.http_status == 413
    assert bluesky_sim.records() == []


def test_an_image_whose_size_cannot_be_read_posts_without_an_aspect_ratio(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    media = (media_item(b"\xff\xd8 not really a jpeg", content_type="image/jpeg", alt="?"),)
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, media=media))
    [image] = embed_of(bluesky_sim)["images"]
    assert "aspectRatio" not in image
    assert image["alt"] == "?"


def test_an_upload_after_a_stale_session_streams_the_file_again(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "warm-up")
    bluesky_sim.expire_tokens()
    opened: list[int] = []
    data = png(64, 48)

    async def chunks() -> AsyncIterator[bytes]:
        opened.append(1)
        for start in range(0, len(data), 100):
            yield data[start : start + 100]

    item = MediaItem("image", "image/png", "https://cdn.example/x.png", "x", chunks)
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, media=(item,)), "with-image")
    assert len(opened) == 2  # refused once as ExpiredToken, then sent whole after the refresh
    [blob] = bluesky_sim.blobs()
    assert blob["size"] == len(data)
    image = next(r for r in bluesky_sim.records() if "embed" in r["value"])["value"]["embed"][
        "images"
    ][0]
    assert image["aspectRatio"] == {"width": 64, "height": 48}


def test_media_without_readable_bytes_is_refused(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    item = MediaItem("image", "image/png", "https://cdn.example/x.png")
    with pytest.raises(RejectedError, match="cannot be read"):
        publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, media=(item,)))
