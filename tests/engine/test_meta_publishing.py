"""Facebook Pages, Instagram and Threads through the API, the engine and the Meta simulator
over loopback: the simulator fetches every file from Herald's own URLs, and get-post shows
each post's id and permalink."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from herald.domain.platform import Platform
from herald.engine.dispatcher import Engine
from meta_support import IG_ID, PAGE, THREADS_ID, MetaControl, connect, meta_sim, meta_sim_url
from support import LiveServer, Tenant, attach_file, iso_in, png, post_when

__all__ = ["meta_sim", "meta_sim_url"]  # fixtures, found by pytest through the module's names

IMAGES = [png((10, 120, 200), (40, 40)), png((240, 140, 20), (60, 30)), png((9, 9, 9), (20, 20))]
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00\x01" * 20_000
COVER = png((250, 250, 0), (320, 180))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _published(tenant: Tenant, group_id: str) -> dict[str, Any]:
    body = post_when(tenant, group_id, "published", "failed", timeout=30)
    [post] = body["posts"]
    assert post["status"] == "published", post
    found: dict[str, Any] = post
    return found


def _fetched(meta_sim: MetaControl, container_id: str) -> list[str]:
    [container] = [c for c in meta_sim.containers() if c["id"] == container_id]
    return list(container["fetched"].values())


def _draft_with(
    tenant: Tenant, account: str, settings: dict[str, Any], content: str = "Behind the scenes"
) -> str:
    created = tenant.client.post(
        "/create-post", json={"content": content, "platforms": [account], "status": "draft"}
    )
    assert created.status_code == 200, created.text
    group_id: str = created.json()["postGroupId"]
    if settings:
        changed = tenant.client.put(
            f"/update-post/{group_id}", json={"platformSettings": {"instagram": settings}}
        )
        assert changed.status_code == 200, changed.text
    return group_id


# Two seconds ahead: on a loaded machine a second can pass before the server reads the time.
LEAD_S = 2


def _schedule(tenant: Tenant, group_id: str) -> None:
    scheduled = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=LEAD_S)}
    )
    assert scheduled.status_code == 200, scheduled.text


def _schedule_threads_chain(tenant: Tenant, profile: str, parts: list[str]) -> str:
    created = tenant.client.post(
        "/create-post",
        json={
            "content": "\n---\n".join(parts),
            "platforms": [profile],
            "scheduledTime": iso_in(seconds=LEAD_S),
            "platformSettings": {"threads": {"replyControl": "accounts_you_follow"}},
        },
    )
    assert created.status_code == 200, created.text
    group_id: str = created.json()["postGroupId"]
    return group_id


def test_a_page_photo_post_and_a_three_part_threads_chain(
    engine: Engine, server: LiveServer, tenant: Tenant, meta_sim: MetaControl
) -> None:
    page = connect(server, tenant, Platform.FACEBOOK, meta_sim.page_token(), meta_sim.base_url)
    assert page == f"facebook-{PAGE.id}"
    profile = connect(
        server, tenant, Platform.THREADS, meta_sim.token("threads"), meta_sim.base_url
    )
    assert profile == f"threads-{THREADS_ID}"
    photo_id = _draft_with(tenant, page, {}, "Our new sign")
    attach_file(tenant, photo_id, "sign.png", IMAGES[0])
    _schedule(tenant, photo_id)
    parts = ["Herald posts to Threads now.", "Each part replies to the one before.", "The end."]
    chain_id = _schedule_threads_chain(tenant, profile, parts)

    photo = _published(tenant, photo_id)
    [item] = meta_sim.published("facebook")
    assert (item["media_type"], item["text"]) == ("PHOTO", "Our new sign")
    assert item["params"]["sha256"] == _sha(IMAGES[0])
    assert item["permalink"].startswith(f"https://www.facebook.com/{PAGE.id}/posts/")
    assert (photo["postedId"], photo["permalink"]) == (item["id"], item["permalink"])

    chain = _published(tenant, chain_id)
    items = meta_sim.published("threads")
    assert [i["text"] for i in items] == parts
    ids = [i["id"] for i in items]
    assert [i["reply_to_id"] for i in items] == [None, ids[0], ids[1]]
    assert {i["params"]["reply_control"] for i in items} == {"accounts_you_follow"}
    assert all(
        i["permalink"].startswith("https://www.threads.com/@herald_sim/post/") for i in items
    )
    assert (chain["postedId"], chain["permalink"], chain["isThread"]) == (
        ids[0],
        items[0]["permalink"],
        True,
    )
    assert [(p["publishedId"], p["publishedUrl"]) for p in chain["threadParts"]] == [
        (i["id"], i["permalink"]) for i in items
    ]


def test_an_instagram_carousel_of_three_a_reel_with_its_cover_and_a_story(
    engine: Engine, server: LiveServer, tenant: Tenant, meta_sim: MetaControl
) -> None:
    account = connect(server, tenant, Platform.INSTAGRAM, meta_sim.token(), meta_sim.base_url)
    assert account == f"instagram-{IG_ID}"
    reel_id = _draft_with(tenant, account, {})
    attach_file(tenant, reel_id, "reel.mp4", MP4, "video/mp4")
    uploaded = tenant.client.post(
        "/upload-instagram-cover",
        data={"postGroupId": reel_id},
        files={"cover": ("cover.png", COVER, "image/png")},
    )
    assert uploaded.status_code == 200, uploaded.text
    cover_url = uploaded.json()["cover"]["url"]
    settings = {"coverUrl": cover_url, "shareToFeed": False}
    changed = tenant.client.put(
        f"/update-post/{reel_id}", json={"platformSettings": {"instagram": settings}}
    )
    assert changed.status_code == 200, changed.text
    story_id = _draft_with(tenant, account, {"videoType": "STORIES"})
    attach_file(tenant, story_id, "story.png", IMAGES[1])
    carousel_id = _draft_with(tenant, account, {}, "Three colours")
    for index, image in enumerate(IMAGES):
        attach_file(tenant, carousel_id, f"colour-{index}.png", image)
    _schedule(tenant, carousel_id)
    _schedule(tenant, reel_id)
    _schedule(tenant, story_id)

    posts = {
        kind: _published(tenant, group)
        for kind, group in (("CAROUSEL", carousel_id), ("REELS", reel_id), ("STORIES", story_id))
    }
    items = {item["media_type"]: item for item in meta_sim.published("instagram")}
    assert set(items) == {"CAROUSEL", "REELS", "STORIES"}
    for kind, post in posts.items():
        assert (post["postedId"], post["permalink"]) == (
            items[kind]["id"],
            items[kind]["permalink"],
        )

    carousel = items["CAROUSEL"]
    assert carousel["text"] == "Three colours"
    assert [_fetched(meta_sim, child) for child in carousel["children"]] == [
        [_sha(image)] for image in IMAGES
    ]
    assert meta_sim.stats()["quota_reads"] == 3  # read before each publish

    reel = items["REELS"]
    assert reel["params"]["cover_url"] == cover_url
    assert reel["params"]["share_to_feed"] == "false"
    assert reel["permalink"].startswith("https://www.instagram.com/reel/")
    reel_fetched = _fetched(meta_sim, reel["container_id"])
    assert reel_fetched[0] == _sha(MP4)
    # The cover too, as the JPEG Herald made of the upload and serves at its URL.
    assert reel_fetched[1:] == [_sha(httpx.get(cover_url).content)]
    assert _fetched(meta_sim, items["STORIES"]["container_id"]) == [_sha(IMAGES[1])]
