"""The Facebook, Instagram and Threads connectors against the Meta simulator over loopback:
the quota read first and respected, containers that fail, Graph errors by code, and a publish
whose answer is lost settled by reading recent media instead of publishing again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    AuthExpiredError,
    MediaItem,
    OutcomeUnknownError,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.facebook.connector import FacebookConnector
from herald.platforms.instagram.connector import InstagramConnector
from herald.platforms.meta.containers import Waits
from herald.platforms.threads.connector import ThreadsConnector
from meta_support import (
    IG_ID,
    PAGE,
    THREADS_ID,
    Files,
    MetaControl,
    media_files,
    meta_sim,
    meta_sim_url,
)
from sim_support import platform_client
from support import png

__all__ = ["media_files", "meta_sim", "meta_sim_url"]

T = TypeVar("T")
WAITS = Waits(first_s=0.02, max_s=0.1, budget_s=1.0)
instagram = InstagramConnector(WAITS)
threads = ThreadsConnector(WAITS)
IMAGE = png((10, 200, 30), (20, 20))


# Generous, as a loaded machine needs; the held answers below outlast it all the same.
TIMEOUT_S = 10.0


def run(call: Callable[[HttpClient], Awaitable[T]], timeout: float = TIMEOUT_S) -> T:
    async def scenario() -> T:
        async with platform_client(timeout) as http:
            return await call(http)

    return asyncio.run(scenario())


def request(
    sim: MetaControl, platform: Platform, account: str, token: str, **fields: Any
) -> PublishRequest:
    values: dict[str, Any] = {
        "target_id": "t1",
        "platform": platform,
        "account_external_id": account,
        "text": "Hello from Herald",
        "options": {"apiUrl": sim.base_url},
        "credentials": {"accessToken": token},
        "scheduled_at": datetime.now(UTC) - timedelta(seconds=1),
    }
    values.update(fields)
    return PublishRequest(**values)


def ig_post(sim: MetaControl, files: Files, **fields: Any) -> PublishRequest:
    media = (MediaItem("image", "image/png", files.put("a.png", IMAGE)),)
    return request(sim, Platform.INSTAGRAM, IG_ID, sim.token(), media=media, **fields)


def test_a_lost_publish_answer_is_settled_from_recent_media_without_a_second_publish(
    meta_sim: MetaControl, media_files: Files
) -> None:
    meta_sim.configure(hang_s=60)  # held until the client gives up waiting
    meta_sim.script("lost_response")
    post = ig_post(meta_sim, media_files)
    published = run(lambda http: instagram.publish(http, post, "k"), timeout=3.0)
    [item] = meta_sim.published("instagram")
    assert (published.external_id, published.url) == (item["id"], item["permalink"])
    assert meta_sim.stats()["publishes"] == 1  # media_publish was called once


def test_an_error_after_publishing_is_settled_the_same_way(
    meta_sim: MetaControl, media_files: Files
) -> None:
    meta_sim.script("error_after_create")
    post = ig_post(meta_sim, media_files)
    published = run(lambda http: instagram.publish(http, post, "k"))
    [item] = meta_sim.published("instagram")
    assert published.external_id == item["id"]
    # The reconciler's lookup finds the same post.
    found = run(lambda http: instagram.lookup(http, post, "k"))
    assert found is not None
    assert found.external_id == item["id"]


def test_a_transient_failure_of_the_publish_call_stays_in_doubt(
    meta_sim: MetaControl, media_files: Files
) -> None:
    meta_sim.script("unavailable")
    post = ig_post(meta_sim, media_files)
    with pytest.raises(OutcomeUnknownError):
        run(lambda http: instagram.publish(http, post, "k"))
    assert meta_sim.published() == []
    assert run(lambda http: instagram.lookup(http, post, "k")) is None


def test_a_spent_quota_waits_before_any_container_is_made(
    meta_sim: MetaControl, media_files: Files
) -> None:
    meta_sim.configure(instagram_quota=0)
    with pytest.raises(RetryableError) as waited:
        run(lambda http: instagram.publish(http, ig_post(meta_sim, media_files), "k"))
    assert waited.value.rate_limited
    assert waited.value.retry_after == 3600
    assert meta_sim.containers() == []


def test_a_file_meta_cannot_fetch_fails_the_post(meta_sim: MetaControl) -> None:
    media = (MediaItem("image", "image/png", "http://192.0.2.7/a.png"),)
    post = request(meta_sim, Platform.INSTAGRAM, IG_ID, meta_sim.token(), media=media)
    with pytest.raises(RejectedError) as refused:
        run(lambda http: instagram.publish(http, post, "k"))
    assert refused.value.code == "MEDIA_PROCESSING_FAILED"
    assert "publicly reachable" in refused.value.message


def test_graph_errors_by_code(meta_sim: MetaControl, media_files: Files) -> None:
    expired = request(meta_sim, Platform.THREADS, THREADS_ID, "THAAexpired")
    with pytest.raises(AuthExpiredError):
        run(lambda http: threads.publish(http, expired, "k"))
    meta_sim.script("rate_limit")
    limited = request(meta_sim, Platform.THREADS, THREADS_ID, meta_sim.token("threads"))
    with pytest.raises(RetryableError) as waited:
        run(lambda http: threads.publish(http, limited, "k"))
    assert waited.value.rate_limited
    meta_sim.script("rejected")
    with pytest.raises(RejectedError) as rejected:
        run(lambda http: threads.publish(http, limited, "k"))
    assert "(#100)" in rejected.value.message
    # A user token cannot post to a Page: permission, for good.
    page_post = request(meta_sim, Platform.FACEBOOK, PAGE.id, meta_sim.token())
    with pytest.raises(RejectedError) as denied:
        run(lambda http: FacebookConnector().publish(http, page_post, "k"))
    assert denied.value.code == "PLATFORM_PERMISSION_DENIED"


def test_facebook_photos_and_a_link(meta_sim: MetaControl, media_files: Files) -> None:
    token = meta_sim.page_token()
    images = tuple(
        MediaItem("image", "image/png", media_files.put(f"p{i}.png", png((i, 9, 9), (8, 8))))
        for i in range(2)
    )
    album = request(meta_sim, Platform.FACEBOOK, PAGE.id, token, media=images, text="Two")
    link = request(
        meta_sim, Platform.FACEBOOK, PAGE.id, token, text="Read https://example.com/news today"
    )
    connector = FacebookConnector()
    first = run(lambda http: connector.publish(http, album, "k"))
    second = run(lambda http: connector.publish(http, link, "k"))
    photos, card = meta_sim.published("facebook")
    assert (photos["media_type"], len(photos["children"]), photos["id"]) == (
        "PHOTOS",
        2,
        first.external_id,
    )
    assert (card["params"]["link"], card["id"]) == ("https://example.com/news", second.external_id)
    assert second.url == card["permalink"]
