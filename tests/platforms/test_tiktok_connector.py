"""The TikTok connector against the TikTok simulator over loopback: creator_info before every
post, a video by FILE_UPLOAD, photos by PULL_FROM_URL, Publora's settings, refusals."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from herald.domain.platform import Platform
from herald.platforms.base import (
    AuthExpiredError,
    ClaimLostError,
    MediaItem,
    PublishRequest,
    RejectedError,
)
from herald.platforms.tiktok import TikTokConnector
from sim_support import platform_client
from tiktok_support import OPEN_ID, USERNAME, TikTokControl, tiktok_sim, tiktok_sim_url

__all__ = ["tiktok_sim", "tiktok_sim_url"]
DEFAULTS = {
    "viewerSetting": "PUBLIC_TO_EVERYONE",
    "allowComments": True,
    "allowDuet": False,
    "allowStitch": False,
    "commercialContent": False,
    "brandOrganic": False,
    "brandedContent": False,
}  # what create-post stores (publora-latest §5.1)


def opener(data: bytes) -> Callable[[], AsyncIterator[bytes]]:
    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    return stream


def request(base_url: str, token: str, media: tuple[MediaItem, ...], **settings: Any) -> Any:
    return PublishRequest(
        target_id="t-1",
        platform=Platform.TIKTOK,
        account_external_id=OPEN_ID,
        text="A day at the lake #summer",
        media=media,
        settings={**DEFAULTS, **settings},
        options={"apiUrl": base_url},
        credentials={"accessToken": token},
    )


def publish(req: PublishRequest) -> Any:
    async def run() -> Any:
        async with platform_client() as http:
            return await TikTokConnector(polls=(0.05,) * 5).publish(http, req, "k")

    return asyncio.run(run())


def test_a_video_goes_up_by_file_upload_with_publoras_settings(
    tiktok_sim: TikTokControl,
) -> None:
    data = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 3000
    video = MediaItem(
        "video", "video/mp4", "https://cdn.example/v.mp4", open=opener(data), size=len(data)
    )
    published = publish(
        request(
            tiktok_sim.base_url,
            tiktok_sim.token(),
            (video,),
            viewerSetting="SELF_ONLY",
            allowDuet=True,
        )
    )
    [post] = tiktok_sim.listing("posts")
    assert (post["kind"], post["source"]) == ("video", "FILE_UPLOAD")
    assert post["sha256"] == hashlib.sha256(data).hexdigest()
    info = post["post_info"]
    assert info["title"] == "A day at the lake #summer"
    assert info["privacy_level"] == "SELF_ONLY"
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (
        False,
        False,
        True,
    )
    assert published.external_id == post["post_id"]
    assert published.url == f"https://www.tiktok.com/@{USERNAME}/video/{post['post_id']}"
    assert tiktok_sim.stats()["creator_queries"] == 1


def test_photos_are_pulled_from_their_urls(tiktok_sim: TikTokControl) -> None:
    photos = tuple(
        MediaItem("image", "image/jpeg", f"https://cdn.example/{n}.jpg") for n in range(2)
    )
    published = publish(request(tiktok_sim.base_url, tiktok_sim.token(), photos))
    [post] = tiktok_sim.listing("posts")
    assert (post["kind"], post["urls"]) == ("photo", [p.url for p in photos])
    assert post["post_info"]["description"] == "A day at the lake #summer"
    assert published.url == f"https://www.tiktok.com/@{USERNAME}/photo/{post['post_id']}"


@pytest.mark.parametrize(
    ("creator", "settings", "message"),
    [
        (
            {"privacy_level_options": ["SELF_ONLY"]},
            {},
            f"TikTok does not let @{USERNAME} post with viewerSetting PUBLIC_TO_EVERYONE; "
            "it allows SELF_ONLY",
        ),
        (
            {"comment_disabled": True},
            {},
            f"@{USERNAME} has comments turned off on TikTok; set allowComments to false",
        ),
        (
            {"duet_disabled": True},
            {"allowDuet": True},
            f"@{USERNAME} has duets turned off on TikTok; set allowDuet to false",
        ),
    ],
)
def test_a_setting_the_creator_cannot_use_is_refused_before_anything_is_made(
    tiktok_sim: TikTokControl, creator: dict[str, Any], settings: dict[str, Any], message: str
) -> None:
    tiktok_sim.configure(**creator)
    data = bytes(1000)
    video = MediaItem("video", "video/mp4", "u", open=opener(data), size=len(data))
    with pytest.raises(RejectedError) as refused:
        publish(request(tiktok_sim.base_url, tiktok_sim.token(), (video,), **settings))
    assert refused.value.message == message
    assert refused.value.code == "TIKTOK_SETTING_NOT_ALLOWED"
    assert tiktok_sim.listing("posts") == []


def test_an_invalid_token_is_auth_expired(tiktok_sim: TikTokControl) -> None:
    photo = MediaItem("image", "image/jpeg", "https://cdn.example/a.jpg")
    with pytest.raises(AuthExpiredError):
        publish(request(tiktok_sim.base_url, "act.nope", (photo,)))


def test_verify_reads_the_user(tiktok_sim: TikTokControl) -> None:
    async def run() -> Any:
        async with platform_client() as http:
            return await TikTokConnector().verify(
                http, {"accessToken": tiktok_sim.token()}, {"apiUrl": tiktok_sim.base_url}
            )

    profile = asyncio.run(run())
    assert (profile.external_id, profile.username) == (OPEN_ID, USERNAME)


class MemoryJournal:
    def __init__(self) -> None:
        self.saved: list[Any] = []

    async def load(self) -> Any:
        return self.saved[-1] if self.saved else None

    async def save(self, checkpoint: Any) -> None:
        self.saved.append(checkpoint)


class LostClaimJournal(MemoryJournal):
    """The engine's journal once the worker's claim was rescued: every save is refused."""

    async def save(self, checkpoint: Any) -> None:
        raise ClaimLostError("claimed again")


def test_a_worker_whose_claim_was_lost_sends_no_init(tiktok_sim: TikTokControl) -> None:
    data = bytes(5000)
    video = MediaItem("video", "video/mp4", "u", open=opener(data), size=len(data))
    stale = request(tiktok_sim.base_url, tiktok_sim.token(), (video,))
    with pytest.raises(ClaimLostError):
        publish(replace(stale, uploads=LostClaimJournal()))
    # The mark before the init was refused: TikTok saw no init, so it holds no post.
    assert tiktok_sim.stats()["inits"] == 0


def test_the_saved_publish_id_settles_an_in_doubt_post(tiktok_sim: TikTokControl) -> None:
    journal, token = MemoryJournal(), tiktok_sim.token()
    data = bytes(5000)
    video = MediaItem("video", "video/mp4", "u", open=opener(data), size=len(data))
    published = publish(replace(request(tiktok_sim.base_url, token, (video,)), uploads=journal))
    assert journal.saved[0].session == f"video {USERNAME} FILE_UPLOAD -"  # before the init
    # The reconciler's request carries no media: the journal says what the post was.
    in_doubt = replace(request(tiktok_sim.base_url, token, ()), uploads=journal)

    async def look() -> Any:
        async with platform_client() as http:
            return await TikTokConnector().lookup(http, in_doubt, "k")

    assert asyncio.run(look()) == published
    assert (
        asyncio.run(
            TikTokConnector().lookup(None, replace(in_doubt, uploads=MemoryJournal()), "k")  # type: ignore[arg-type]
        )
        is None
    )  # nothing saved: no init was ever sent
