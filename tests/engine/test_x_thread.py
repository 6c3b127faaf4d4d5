"""A thread of three tweets with two images, through the API, the engine and the X simulator
over loopback; get-post then shows each part's tweet id and URL."""

from __future__ import annotations

import hashlib

from herald.engine.dispatcher import Engine
from support import LiveServer, Tenant, png, post_when, schedule_with_files
from x_support import ADA, XControl, connect_x, x_sim, x_sim_url

__all__ = ["x_sim", "x_sim_url"]  # fixtures, found by pytest through the module's names

PARTS = [
    "Herald now publishes to X: threads, images and replies, from one request.",
    "Each tweet of a thread replies to the one before it, in order.",
    "And an in-doubt tweet is looked up in the timeline, never sent twice ✨",
]
CONTENT = "\n---\n".join(PARTS)
IMAGES = [png((10, 120, 200), (40, 40)), png((240, 140, 20), (60, 30))]
ALT_TEXTS = ["A blue square", "An orange rectangle"]


def test_a_thread_with_two_images_goes_out_and_get_post_shows_every_part(
    engine: Engine, server: LiveServer, tenant: Tenant, x_sim: XControl
) -> None:
    connection = connect_x(server, tenant, x_sim)
    assert connection == f"twitter-{ADA.id}"

    group_id = schedule_with_files(tenant, CONTENT, [connection], IMAGES, ALT_TEXTS)
    body = post_when(tenant, group_id, "published", "failed", timeout=30)
    [post] = body["posts"]
    assert post["status"] == "published", post

    tweets = x_sim.tweets(ADA)
    assert [t["text"] for t in tweets] == [f"{text} [{i}/3]" for i, text in enumerate(PARTS, 1)]
    ids = [t["id"] for t in tweets]
    assert [t["in_reply_to_tweet_id"] for t in tweets] == [None, ids[0], ids[1]]
    urls = [f"https://x.com/ada/status/{tweet_id}" for tweet_id in ids]
    assert (post["postedId"], post["permalink"], post["isThread"]) == (ids[0], urls[0], True)
    assert [
        (part["index"], part["status"], part["publishedId"], part["publishedUrl"])
        for part in post["threadParts"]
    ] == [(i, "published", ids[i], urls[i]) for i in range(3)]

    # Both images went to the first tweet, uploaded whole, in order.
    assert len(tweets[0]["media_ids"]) == 2
    assert tweets[1]["media_ids"] == tweets[2]["media_ids"] == []
    media = {m["id"]: m for m in x_sim.media()}
    uploaded = [media[media_id] for media_id in tweets[0]["media_ids"]]
    assert [m["sha256"] for m in uploaded] == [hashlib.sha256(i).hexdigest() for i in IMAGES]
    assert [m["media_category"] for m in uploaded] == ["tweet_image", "tweet_image"]
    assert [m["alt_text"] for m in uploaded] == ALT_TEXTS
