"""Every kind of answer the X simulator gives, and the requests it records, checked against
X's published API description (see x_schema_support)."""

from __future__ import annotations

import base64
import time

import pytest

from x_schema_support import answer_violations, request_violations, violations
from x_support import ADA, MP4, PNG, XControl


def test_the_validator_catches_a_wrong_answer() -> None:
    assert violations("CreatePostsResponse", {"data": {"id": 5, "text": "t"}})
    assert violations("CreatePostsResponse", {"data": {"text": "t"}})
    assert violations("GetMediaUploadStatusResponse", {"data": {"id": "1", "size": "big"}})
    assert violations("InvalidRequestProblem", {"title": "Invalid Request", "detail": "d"})
    assert not violations("CreatePostsResponse", {"data": {"id": "5", "text": "t"}})


def test_tweet_and_user_answers_conform(x_sim: XControl) -> None:
    token = x_sim.token()
    checked = []

    def check(method: str, path: str, route: str, status: int, **kwargs: object) -> dict:
        answer = x_sim.api(method, path, token, **kwargs)
        assert answer.status_code == status, answer.text
        assert answer_violations(method, route, status, answer.json()) == []
        checked.append(route)
        body: dict = answer.json()
        return body

    check("GET", "/2/users/me?user.fields=profile_image_url,verified,protected", "/2/users/me", 200)
    root = check("POST", "/2/tweets", "/2/tweets", 201, json={"text": "see https://example.com"})
    reply = {"text": "two", "reply": {"in_reply_to_tweet_id": root["data"]["id"]}}
    check("POST", "/2/tweets", "/2/tweets", 201, json=reply)
    quote = {"text": "three", "quote_tweet_id": root["data"]["id"], "reply_settings": "following"}
    check("POST", "/2/tweets", "/2/tweets", 201, json=quote)
    fields = (
        "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets,"
        "attachments,entities,reply_settings,edit_history_tweet_ids"
    )
    timeline = f"/2/users/{ADA.id}/tweets?max_results=5&tweet.fields={fields}"
    check("GET", timeline, "/2/users/{id}/tweets", 200)
    check("GET", f"/2/users/{ADA.id}/tweets?since_id=9{'0' * 18}", "/2/users/{id}/tweets", 200)
    check("GET", "/2/users/42/tweets", "/2/users/{id}/tweets", 200)  # errors: not found
    check("DELETE", f"/2/tweets/{root['data']['id']}", "/2/tweets/{id}", 200)
    check("DELETE", f"/2/tweets/{root['data']['id']}", "/2/tweets/{id}", 404)
    check("POST", "/2/tweets", "/2/tweets", 400, json={"text": "x" * 300})
    check("GET", timeline.replace("max_results=5", "max_results=500"), "/2/users/{id}/tweets", 400)
    assert len(checked) == 11


def test_media_answers_conform(x_sim: XControl) -> None:
    x_sim.configure(processing_s=2.0)
    token = x_sim.token()

    def check(method: str, path: str, route: str, **kwargs: object) -> dict:
        answer = x_sim.api(method, path, token, **kwargs)
        assert answer.status_code == 200, answer.text
        assert answer_violations(method, route, 200, answer.json()) == []
        body: dict = answer.json()
        return body

    photo = {"media": base64.b64encode(PNG).decode(), "media_category": "tweet_image"}
    photo_id = check("POST", "/2/media/upload", "/2/media/upload", json=photo)["data"]["id"]
    alt = {"id": photo_id, "metadata": {"alt_text": {"text": "described"}}}
    check("POST", "/2/media/metadata", "/2/media/metadata", json=alt)
    init = {"media_type": "video/mp4", "total_bytes": len(MP4), "media_category": "tweet_video"}
    media_id = check("POST", "/2/media/upload/initialize", "/2/media/upload/initialize", json=init)[
        "data"
    ]["id"]
    segment = {"media": base64.b64encode(MP4).decode(), "segment_index": 0}
    route = "/2/media/upload/{id}/append"
    check("POST", f"/2/media/upload/{media_id}/append", route, json=segment)
    finalize = "/2/media/upload/{id}/finalize"
    check("POST", f"/2/media/upload/{media_id}/finalize", finalize)
    status = f"/2/media/upload?command=STATUS&media_id={media_id}"
    pending = check("GET", status, "/2/media/upload")
    assert pending["data"]["processing_info"]["state"] in ("pending", "in_progress")
    time.sleep(2.1)
    assert check("GET", status, "/2/media/upload")["data"]["processing_info"]["state"] == (
        "succeeded"
    )


def test_recorded_requests_conform_and_a_bad_one_is_caught(x_sim: XControl) -> None:
    token = x_sim.token()
    x_sim.tweet(token, "plain")
    body = {"media_type": "video/mp4", "total_bytes": 10, "media_category": "tweet_video"}
    x_sim.api("POST", "/2/media/upload/initialize", token, json=body)
    x_sim.api("POST", "/2/media/metadata", token, json={"id": "1", "metadata": {}})
    x_sim.api("POST", "/2/tweets", token, json={"text": "bad", "media": {"media_ids": "1"}})
    records = x_sim.listing("requests")
    assert [r["endpoint"] for r in records] == [
        "POST /2/tweets",
        "POST /2/media/upload/initialize",
        "POST /2/media/metadata",
        "POST /2/tweets",
    ]
    assert request_violations(records[:3]) == []
    assert request_violations(records[3:])  # media_ids must be a list


@pytest.mark.parametrize("status", [401, 403, 429])
def test_plain_problems_fall_outside_the_description(x_sim: XControl, status: int) -> None:
    """X's description has no schema for its about:blank problems; this pins that the
    simulator's shape for them is the one X sends, so the gap stays visible."""
    x_sim.configure(tweets_per_window=1)
    token = x_sim.token(scope="tweet.read users.read") if status == 403 else x_sim.token()
    if status == 429:
        x_sim.tweet(token, "fills the window")
    answer = x_sim.api("POST", "/2/tweets", None if status == 401 else token, json={"text": "t"})
    assert answer.status_code == status
    assert set(answer.json()) == {"title", "detail", "type", "status"}
    assert answer.json()["type"] == "about:blank"
    with pytest.raises(LookupError):
        answer_violations("POST", "/2/tweets", status, answer.json())
