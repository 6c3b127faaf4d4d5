"""The Meta simulator driven by Meta's own Python SDK (facebook-business, pinned as a dev
dependency): the Graph calls Herald makes, as the SDK sends them and reads the answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from facebook_business.adobjects.igmedia import IGMedia
from facebook_business.adobjects.iguser import IGUser
from facebook_business.adobjects.page import Page
from facebook_business.adobjects.shadowigmediabuilder import ShadowIGMediaBuilder
from facebook_business.adobjects.user import User
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from meta_support import IG_ID, PAGE, Files, MetaControl, media_files, meta_sim, meta_sim_url
from support import png, wait_until

__all__ = ["media_files", "meta_sim", "meta_sim_url"]

IMAGES = [png((1, 2, 3), (16, 16)), png((200, 100, 50), (24, 12))]


def sdk(sim: MetaControl, token: str) -> FacebookAdsApi:
    """The SDK's API object aimed at the simulator: GRAPH is the session's documented host."""
    session = FacebookSession(access_token=token)
    session.GRAPH = sim.base_url
    return FacebookAdsApi(session, api_version="v24.0")


def ready(api: FacebookAdsApi, container: str) -> Callable[[], bool]:
    """A container's status as the SDK reads it (its media builder object)."""

    def finished() -> bool:
        found = ShadowIGMediaBuilder(container, api=api).api_get(fields=["status_code"])
        return bool(found["status_code"] == "FINISHED")

    return finished


def test_pages_come_with_page_tokens_that_post_to_the_page(
    meta_sim: MetaControl, media_files: Files
) -> None:
    user_api = sdk(meta_sim, meta_sim.token())
    pages = list(
        User(fbid="me", api=user_api).get_accounts(
            fields=["id", "name", "access_token", "instagram_business_account"]
        )
    )
    assert [(p["id"], p["name"]) for p in pages] == [(PAGE.id, PAGE.name)]
    assert pages[0]["instagram_business_account"]["id"] == IG_ID
    page_api = sdk(meta_sim, pages[0]["access_token"])
    post = Page(PAGE.id, api=page_api).create_feed(params={"message": "Hello from the SDK"})
    assert post["id"].startswith(f"{PAGE.id}_")
    photo = Page(PAGE.id, api=page_api).create_photo(
        params={"url": media_files.put("p.png", IMAGES[0]), "message": "A photo"}
    )
    assert photo["post_id"].startswith(f"{PAGE.id}_")
    texts = [item["text"] for item in meta_sim.published("facebook")]
    assert texts == ["Hello from the SDK", "A photo"]


def test_an_instagram_carousel_through_the_sdk(meta_sim: MetaControl, media_files: Files) -> None:
    api = sdk(meta_sim, meta_sim.token())
    account = IGUser(IG_ID, api=api)
    limit = account.get_content_publishing_limit(fields=["quota_usage", "config"])
    assert limit[0]["config"]["quota_total"] == 100
    children = []
    for index, image in enumerate(IMAGES):
        url = media_files.put(f"c{index}.png", image)
        children.append(
            account.create_media(params={"image_url": url, "is_carousel_item": True})["id"]
        )
    for child in children:
        wait_until(ready(api, child))
    parent = account.create_media(
        params={"media_type": "CAROUSEL", "children": children, "caption": "Two colours"}
    )["id"]
    wait_until(ready(api, parent))
    published = account.create_media_publish(params={"creation_id": parent})
    media = IGMedia(published["id"], api=api).api_get(
        fields=["permalink", "media_type", "caption", "timestamp"]
    )
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert media["caption"] == "Two colours"
    assert media["permalink"].startswith("https://www.instagram.com/p/")
    assert time.strptime(media["timestamp"], "%Y-%m-%dT%H:%M:%S%z")


def test_graph_errors_reach_the_sdk_as_meta_sends_them(meta_sim: MetaControl) -> None:
    api = sdk(meta_sim, "EAAnot-a-token")
    with pytest.raises(FacebookRequestError) as refused:
        User(fbid="me", api=api).api_get(fields=["id"])
    error: Any = refused.value
    assert (error.api_error_code(), error.api_error_subcode()) == (190, 463)
    assert error.api_error_type() == "OAuthException"
    assert error.api_transient_error() is False
    account = IGUser(IG_ID, api=sdk(meta_sim, meta_sim.token()))
    with pytest.raises(FacebookRequestError) as not_ready:
        account.create_media_publish(params={"creation_id": "17000000000000000"})
    assert not_ready.value.api_error_code() == 100
