"""Per-platform media rules (publora-spec §4.2, §5)."""

from __future__ import annotations

import pytest

from herald.domain.media_rules import (
    AttachedMedia,
    MediaRuleError,
    check_attachments,
    check_ready_to_publish,
    kind_of,
    needs_jpeg,
)
from herald.domain.platform import Platform

IMAGE = AttachedMedia("image", "image/jpeg")
VIDEO = AttachedMedia("video", "video/mp4")


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("image/jpeg", "image"),
        ("IMAGE/PNG", "image"),
        ("Video/QuickTime", "video"),
        # A browser reads the last of a list, so parameters and lists are refused, not stripped.
        ("IMAGE/PNG; charset=binary", None),
        ("image/png; x=1, text/html", None),
        ("image/png, text/html", None),
        (" image/png", None),
        ("video/quic\u212atime", None),  # the Kelvin sign lowers to "k"
        ("image/webp", "image"),
        ("video/mp4", "video"),
        ("video/quicktime", "video"),
        ("image/svg+xml", None),
        ("application/pdf", None),
        ("text/plain", None),
    ],
)
def test_kind_of(content_type: str, kind: str | None) -> None:
    assert kind_of(content_type) == kind


@pytest.mark.parametrize(
    ("platform", "media", "message"),
    [
        (Platform.BLUESKY, [IMAGE] * 5, "bluesky accepts at most 4 images per post"),
        (
            Platform.TWITTER,
            [IMAGE, VIDEO],
            "twitter does not accept images and a video in the same post",
        ),
        (Platform.MASTODON, [VIDEO, VIDEO], "mastodon accepts at most 1 video per post"),
        (Platform.TIKTOK, [IMAGE] * 36, "tiktok accepts at most 35 images per post"),
        (
            Platform.TIKTOK,
            [IMAGE, VIDEO],
            "tiktok does not accept images and a video in the same post",
        ),
        (Platform.YOUTUBE, [IMAGE], "youtube does not accept images; it needs a video"),
        (Platform.INSTAGRAM, [IMAGE] * 11, "instagram accepts at most 10 images per post"),
        (Platform.LINKEDIN, [IMAGE] * 21, "linkedin accepts at most 20 images per post"),
        (
            Platform.THREADS,
            [AttachedMedia("video", "video/quicktime")],
            "threads accepts video as video/mp4, not video/quicktime",
        ),
    ],
)
def test_refusals_name_the_platform_and_the_limit(
    platform: Platform, media: list[AttachedMedia], message: str
) -> None:
    with pytest.raises(MediaRuleError) as caught:
        check_attachments(platform, media)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("platform", "media"),
    [
        (Platform.BLUESKY, [IMAGE] * 4),
        (Platform.INSTAGRAM, [IMAGE, VIDEO, IMAGE]),  # carousels mix
        (Platform.TELEGRAM, [IMAGE] * 5 + [VIDEO]),  # albums mix
        (Platform.FACEBOOK, [IMAGE] * 10),
        (Platform.TIKTOK, [VIDEO]),
        (Platform.TIKTOK, [IMAGE] * 35),  # a photo post
    ],
)
def test_accepted(platform: Platform, media: list[AttachedMedia]) -> None:
    check_attachments(platform, media)
    check_ready_to_publish(platform, media)


@pytest.mark.parametrize(
    ("platform", "needs"),
    [
        (Platform.INSTAGRAM, "images and videos"),
        (Platform.TIKTOK, "images or a video"),
        (Platform.YOUTUBE, "a video"),
    ],
)
def test_media_first_platforms_need_media_to_publish(platform: Platform, needs: str) -> None:
    check_attachments(platform, [])  # attaching comes after creating
    with pytest.raises(MediaRuleError) as caught:
        check_ready_to_publish(platform, [])
    assert str(caught.value) == f"{platform.value} needs {needs} to publish"


def test_webp_is_converted_only_where_it_is_not_taken() -> None:
    assert needs_jpeg(Platform.BLUESKY, "image/webp")
    assert needs_jpeg(Platform.LINKEDIN, "image/webp")
    assert not needs_jpeg(Platform.TWITTER, "image/webp")
    assert not needs_jpeg(Platform.BLUESKY, "image/png")


def test_video_frame_rate_minimum() -> None:
    from herald.domain.media_rules import LOW_FPS, check_video

    with pytest.raises(MediaRuleError) as caught:
        check_video(Platform.TIKTOK, 22.9)
    assert str(caught.value) == LOW_FPS == "Video FPS is below minimum requirement"
    check_video(Platform.TIKTOK, 23.0)
    check_video(Platform.TIKTOK, None)  # unknown passes; the platform has the last word
    check_video(Platform.BLUESKY, 10.0)
