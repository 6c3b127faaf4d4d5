"""X's official Python SDK (`xdk`) and tweepy against the X simulator over loopback: they must
run the OAuth 2.0 flow with it, parse its answers into their own models and raise their own
errors on its refusals, so the simulator is X as its clients know it, not only Herald's idea.

`xdk` takes its API and OAuth hosts as arguments. tweepy names https://api.twitter.com in its
code, so its requests session gets an adapter that sends those requests to the simulator; no
test reaches any other address. oauthlib refuses http:// token endpoints unless told the
transport is local, which OAUTHLIB_INSECURE_TRANSPORT does for these tests alone.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter
from xdk import Client
from xdk.media.models import (
    AppendUploadRequest,
    CreateMetadataRequest,
    InitializeUploadRequest,
    UploadRequest,
)
from xdk.oauth2_auth import OAuth2PKCEAuth
from xdk.posts.models import CreateRequest
from xdk.schemas import CreatePostsMedia, CreatePostsReply

from x_support import (
    ADA,
    CLIENT_ID,
    CLIENT_SECRET,
    MP4,
    PNG,
    PUBLIC_CLIENT_ID,
    REDIRECT_URI,
    SCOPE,
    XControl,
)

TWITTER_API = "https://api.twitter.com"


@pytest.fixture(autouse=True)
def local_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def approve(x_sim: XControl, authorize_url: str) -> str:
    """Opens a client-built authorize URL on the simulator, approves as Ada: the callback URL
    the browser would be sent to."""
    query = urlsplit(authorize_url).query
    page = x_sim.http.get(f"/i/oauth2/authorize?{query}")
    assert page.status_code == 200, page.text
    found = re.search(r'name="request_id" value="([^"]+)"', page.text)
    assert found is not None
    form = {"request_id": found.group(1), "decision": "approve", "user_id": ADA.id}
    answer = x_sim.http.post("/i/oauth2/authorize", data=form)
    assert answer.status_code == 302
    location: str = answer.headers["location"]
    return location


# --- xdk ---------------------------------------------------------------------------------


def xdk_auth(
    x_sim: XControl, client_id: str = CLIENT_ID, secret: str | None = CLIENT_SECRET
) -> OAuth2PKCEAuth:
    return OAuth2PKCEAuth(
        base_url=x_sim.base_url,
        authorization_base_url=f"{x_sim.base_url}/i",
        client_id=client_id,
        client_secret=secret,
        redirect_uri=REDIRECT_URI,
        scope=SCOPE.split(),
    )


def test_xdk_runs_the_pkce_flow_and_refreshes(x_sim: XControl) -> None:
    auth = xdk_auth(x_sim)
    url = auth.get_authorization_url(state="xdk-state")
    assert url.startswith(f"{x_sim.base_url}/i/oauth2/authorize?")
    callback = approve(x_sim, url)
    assert "state=xdk-state" in callback
    token = auth.fetch_token(callback)  # S256 verifier, HTTP Basic for the confidential app
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 7200
    first_refresh = token["refresh_token"]
    me = Client(base_url=x_sim.base_url, access_token=token["access_token"]).users.get_me()
    assert (me.data.id, me.data.username) == (ADA.id, "ada")
    refreshed = auth.refresh_token()  # requests-oauthlib's refresh, Basic auth
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != first_refresh
    assert x_sim.refresh(first_refresh).json()["error"] == "invalid_request"  # rotated
    assert x_sim.stats()["refreshes"] == 1


def test_xdk_public_client_and_its_error_on_a_reused_code(x_sim: XControl) -> None:
    auth = xdk_auth(x_sim, PUBLIC_CLIENT_ID, None)
    callback = approve(x_sim, auth.get_authorization_url(state="s"))
    assert auth.fetch_token(callback)["access_token"]
    with pytest.raises(ValueError, match="Value passed for the authorization code was invalid"):
        auth.fetch_token(callback)


def test_xdk_posts_a_thread_deletes_and_reads_the_timeline(x_sim: XControl) -> None:
    client = Client(base_url=x_sim.base_url, access_token=x_sim.token())
    me = client.users.get_me(user_fields=["profile_image_url", "verified"])
    assert me.data.profile_image_url == ADA.profile_image_url
    first = client.posts.create(body=CreateRequest(text="xdk one"))
    assert first.data.text == "xdk one"
    reply = CreatePostsReply(in_reply_to_tweet_id=first.data.id)
    second = client.posts.create(body=CreateRequest(text="xdk two", reply=reply))
    stored = {t["id"]: t for t in x_sim.tweets()}
    assert stored[second.data.id]["in_reply_to_tweet_id"] == first.data.id
    pages = list(
        client.users.get_posts(ADA.id, max_results=5, post_fields=["conversation_id", "created_at"])
    )
    posts = [post for page in pages for post in page.data]
    assert [post.id for post in posts] == [second.data.id, first.data.id]
    assert posts[0].conversation_id == first.data.id
    gone = client.posts.delete(first.data.id)
    assert gone.data.deleted is True
    assert x_sim.tweets()[0]["deleted"] is True


def test_xdk_uploads_a_photo_and_a_chunked_video_and_attaches_them(x_sim: XControl) -> None:
    x_sim.configure(processing_s=0.5)
    client = Client(base_url=x_sim.base_url, access_token=x_sim.token())
    photo = client.media.upload(
        body=UploadRequest(media=base64.b64encode(PNG).decode(), media_category="tweet_image")
    )
    assert photo.data.media_key == f"3_{photo.data.id}"
    described = client.media.create_metadata(
        body=CreateMetadataRequest(id=photo.data.id, metadata={"alt_text": {"text": "a square"}})
    )
    assert described.data.associated_metadata == {"alt_text": {"text": "a square"}}
    init = client.media.initialize_upload(
        body=InitializeUploadRequest(
            media_type="video/mp4", total_bytes=len(MP4), media_category="tweet_video"
        )
    )
    video_id = init.data.id
    size = 200_000
    for index, start in enumerate(range(0, len(MP4), size)):
        chunk = base64.b64encode(MP4[start : start + size]).decode()
        client.media.append_upload(
            video_id, body=AppendUploadRequest(media=chunk, segment_index=index)
        )
    done = client.media.finalize_upload(video_id)
    assert done.data.processing_info.state == "pending"
    deadline = time.monotonic() + 10
    state = None
    while state != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(done.data.processing_info.check_after_secs / 4)
        status = client.media.get_upload_status(video_id, command="STATUS")
        state = status.data.processing_info.state
    client.posts.create(
        body=CreateRequest(text="photo", media=CreatePostsMedia(media_ids=[photo.data.id]))
    )
    client.posts.create(
        body=CreateRequest(text="video", media=CreatePostsMedia(media_ids=[video_id]))
    )
    assert [t["media_ids"] for t in x_sim.tweets()] == [[photo.data.id], [video_id]]
    assert [m["sha256"] for m in x_sim.media()][1] == hashlib.sha256(MP4).hexdigest()


def test_xdk_raises_on_refusals(x_sim: XControl) -> None:
    client = Client(base_url=x_sim.base_url, access_token=x_sim.token())
    client.posts.create(body=CreateRequest(text="once"))
    with pytest.raises(requests.HTTPError) as duplicate:
        client.posts.create(body=CreateRequest(text="once"))
    assert duplicate.value.response.status_code == 403
    assert "duplicate content" in duplicate.value.response.json()["detail"]
    stale = Client(base_url=x_sim.base_url, access_token="not-a-token")
    with pytest.raises(requests.HTTPError) as unauthorized:
        stale.users.get_me()
    assert unauthorized.value.response.status_code == 401


# --- tweepy ------------------------------------------------------------------------------


class ToSimulator(HTTPAdapter):
    """Sends the requests tweepy addresses to api.twitter.com to the simulator instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = str(request.url)
        assert url.startswith(TWITTER_API), url  # nothing else may leave the test
        request.url = self.base_url + url[len(TWITTER_API) :]
        return super().send(request, **kwargs)


@pytest.fixture
def tweepy_client(x_sim: XControl) -> Iterator[tweepy.Client]:
    """tweepy's v2 client with a user-context OAuth 2.0 token as its bearer token."""
    client = tweepy.Client(bearer_token=x_sim.token())
    client.session.mount(TWITTER_API, ToSimulator(x_sim.base_url))
    yield client
    client.session.close()


def test_tweepy_creates_replies_quotes_deletes_and_reads(
    x_sim: XControl, tweepy_client: tweepy.Client
) -> None:
    me = tweepy_client.get_me(user_auth=False, user_fields=["profile_image_url"])
    assert (me.data.id, me.data.username) == (int(ADA.id), "ada")
    assert me.data.profile_image_url == ADA.profile_image_url
    root = tweepy_client.create_tweet(text="tweepy root", user_auth=False).data
    reply = tweepy_client.create_tweet(
        text="tweepy reply", in_reply_to_tweet_id=root["id"], user_auth=False
    ).data
    quote = tweepy_client.create_tweet(
        text="tweepy quote", quote_tweet_id=root["id"], user_auth=False
    ).data
    assert root["edit_history_tweet_ids"] == [root["id"]]
    tweets = [
        tweet
        for page in tweepy.Paginator(
            tweepy_client.get_users_tweets,
            ADA.id,
            max_results=5,
            tweet_fields=["referenced_tweets", "conversation_id", "created_at"],
            user_auth=False,
        )
        for tweet in page.data or []
    ]
    assert [t.id for t in tweets] == [int(quote["id"]), int(reply["id"]), int(root["id"])]
    assert tweets[1].conversation_id == int(root["id"])
    assert tweets[1].referenced_tweets[0].type == "replied_to"
    assert tweets[0].created_at is not None  # tweepy parsed X's timestamp
    deleted = tweepy_client.delete_tweet(root["id"], user_auth=False)
    assert deleted.data == {"deleted": True}


def test_tweepy_raises_its_own_errors_with_xs_messages(
    x_sim: XControl, tweepy_client: tweepy.Client
) -> None:
    tweepy_client.create_tweet(text="twice", user_auth=False)
    with pytest.raises(tweepy.Forbidden) as duplicate:
        tweepy_client.create_tweet(text="twice", user_auth=False)
    assert duplicate.value.api_messages == [
        "You are not allowed to create a Tweet with duplicate content."
    ]
    with pytest.raises(tweepy.BadRequest) as too_long:
        tweepy_client.create_tweet(text="x" * 281, user_auth=False)
    assert too_long.value.api_messages == ["Post text is too long."]
    x_sim.configure(tweets_per_window=1)  # the window holds three creates already
    with pytest.raises(tweepy.TooManyRequests) as limited:
        tweepy_client.create_tweet(text="third", user_auth=False)
    assert limited.value.reset_time is not None
    assert limited.value.reset_time > time.time()
    x_sim.expire_tokens()
    with pytest.raises(tweepy.Unauthorized):
        tweepy_client.get_me(user_auth=False)


def test_tweepy_oauth2_user_handler_against_the_token_endpoint(x_sim: XControl) -> None:
    handler = tweepy.OAuth2UserHandler(
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        scope=SCOPE.split(),
        client_secret=CLIENT_SECRET,
    )
    handler.mount(TWITTER_API, ToSimulator(x_sim.base_url))
    url = handler.get_authorization_url()
    assert "code_challenge_method=S256" in url
    callback = approve(x_sim, url)
    token = handler.fetch_token(callback)
    assert token["scope"] == SCOPE.split()  # oauthlib splits the granted scopes
    assert token["refresh_token"]
    me = x_sim.api("GET", "/2/users/me", token["access_token"])
    assert me.json()["data"]["id"] == ADA.id
    refreshed = handler.refresh_token(
        f"{TWITTER_API}/2/oauth2/token", refresh_token=token["refresh_token"], auth=handler.auth
    )
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert x_sim.stats()["codes_exchanged"] == 1
    assert x_sim.stats()["refreshes"] == 1
