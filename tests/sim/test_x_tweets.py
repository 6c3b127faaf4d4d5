"""The X simulator's users/me, tweet create and delete, the user timeline, rate windows and
faults, over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest

from sim_support import CLIENT_TIMEOUT_S
from x_support import ADA, BOB, XControl

INVALID = "https://api.x.com/2/problems/invalid-request"


def test_me_answers_the_tokens_user_with_asked_fields(x_sim: XControl) -> None:
    token = x_sim.token()
    plain = x_sim.api("GET", "/2/users/me", token)
    assert plain.json() == {"data": {"id": ADA.id, "name": "Ada L.", "username": "ada"}}
    rich = x_sim.api("GET", "/2/users/me?user.fields=profile_image_url,verified", token)
    assert rich.json()["data"]["profile_image_url"] == ADA.profile_image_url
    assert rich.json()["data"]["verified"] is False
    bad = x_sim.api("GET", "/2/users/me?user.fields=shoe_size", token)
    assert bad.status_code == 400
    assert bad.json()["type"] == INVALID
    assert bad.json()["errors"][0]["parameters"] == {"user.fields": ["shoe_size"]}


def test_every_api_answer_carries_the_rate_window(x_sim: XControl) -> None:
    """docs fundamentals/rate-limits: x-rate-limit-limit, -remaining, -reset (epoch s)."""
    token = x_sim.token()
    first = x_sim.api("GET", "/2/users/me", token)
    second = x_sim.api("GET", "/2/users/me", token)
    assert first.headers["x-rate-limit-limit"] == "900"
    assert first.headers["x-rate-limit-remaining"] == "899"
    assert second.headers["x-rate-limit-remaining"] == "898"
    reset = int(first.headers["x-rate-limit-reset"])
    assert time.time() + 890 < reset <= time.time() + 901


def test_missing_scope_is_403_and_missing_token_401(x_sim: XControl) -> None:
    reader = x_sim.token(scope="tweet.read users.read")
    refused = x_sim.api("POST", "/2/tweets", reader, json={"text": "hi"})
    assert refused.status_code == 403
    assert refused.json() == {
        "title": "Forbidden",
        "detail": "Forbidden",
        "type": "about:blank",
        "status": 403,
    }
    assert x_sim.api("POST", "/2/tweets", None, json={"text": "hi"}).status_code == 401
    assert x_sim.api("POST", "/2/tweets", "made-up", json={"text": "hi"}).status_code == 401
    assert x_sim.tweets() == []


def test_create_answers_201_with_id_text_and_edit_history(x_sim: XControl) -> None:
    token = x_sim.token()
    answer = x_sim.api("POST", "/2/tweets", token, json={"text": "Hello from Herald"})
    assert answer.status_code == 201
    data = answer.json()["data"]
    assert data == {
        "id": data["id"],
        "text": "Hello from Herald",
        "edit_history_tweet_ids": [data["id"]],
    }
    assert len(data["id"]) == 19
    assert data["id"].isdecimal()
    assert answer.headers["x-rate-limit-limit"] == "100"
    assert answer.headers["x-app-limit-24hour-limit"] == "10000"
    assert answer.headers["x-app-limit-24hour-remaining"] == "9999"
    stored = x_sim.tweets()
    assert [(t["id"], t["text"], t["author_id"]) for t in stored] == [
        (data["id"], "Hello from Herald", ADA.id)
    ]
    assert stored[0]["url"] == f"https://x.com/ada/status/{data['id']}"


def test_urls_come_back_as_tco_links_with_their_expanded_url(x_sim: XControl) -> None:
    token = x_sim.token()
    text = "Read https://example.com/a/very/long/path?q=1 now."
    data = x_sim.tweet(token, text)
    assert data["text"].startswith("Read https://t.co/")
    assert data["text"].endswith(" now.")
    assert "example.com" not in data["text"]
    timeline = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?tweet.fields=entities", token)
    (url,) = timeline.json()["data"][0]["entities"]["urls"]
    assert url["expanded_url"] == "https://example.com/a/very/long/path?q=1"
    assert data["text"][url["start"] : url["end"]] == url["url"]
    assert x_sim.tweets()[0]["text"] == text  # stored as sent


def test_thread_replies_and_quotes(x_sim: XControl) -> None:
    token = x_sim.token()
    root = x_sim.tweet(token, "one")
    reply = x_sim.tweet(token, "two", reply={"in_reply_to_tweet_id": root["id"]})
    quote = x_sim.tweet(token, "look", quote_tweet_id=root["id"])
    fields = "tweet.fields=conversation_id,in_reply_to_user_id,referenced_tweets,author_id"
    timeline = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?{fields}", token).json()["data"]
    by_id = {t["id"]: t for t in timeline}
    assert by_id[reply["id"]]["referenced_tweets"] == [{"type": "replied_to", "id": root["id"]}]
    assert by_id[reply["id"]]["conversation_id"] == root["id"]
    assert by_id[reply["id"]]["in_reply_to_user_id"] == ADA.id
    assert by_id[quote["id"]]["referenced_tweets"] == [{"type": "quoted", "id": root["id"]}]
    assert "referenced_tweets" not in by_id[root["id"]]
    records = {t["id"]: t for t in x_sim.tweets()}
    assert records[reply["id"]]["in_reply_to_tweet_id"] == root["id"]
    assert records[quote["id"]]["quote_tweet_id"] == root["id"]


def test_reply_to_a_missing_or_deleted_tweet_is_403(x_sim: XControl) -> None:
    token = x_sim.token()
    root = x_sim.tweet(token, "soon gone")
    assert x_sim.api("DELETE", f"/2/tweets/{root['id']}", token).status_code == 200
    for parent in (root["id"], "1234567890123456789"):
        body = {"text": "reply", "reply": {"in_reply_to_tweet_id": parent}}
        refused = x_sim.api("POST", "/2/tweets", token, json=body)
        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "You attempted to reply to a Tweet that is deleted or not visible to you."
        )


def test_duplicate_text_of_the_same_user_is_403(x_sim: XControl) -> None:
    """The answer as X sends it (akrherz/iembot#163, sferik/x-ruby#24)."""
    ada, bob = x_sim.token(ADA), x_sim.token(BOB)
    x_sim.tweet(ada, "same words")
    again = x_sim.api("POST", "/2/tweets", ada, json={"text": "same words"})
    assert again.status_code == 403
    assert again.json() == {
        "title": "Forbidden",
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank",
        "status": 403,
    }
    x_sim.tweet(bob, "same words")  # another user may
    assert x_sim.stats()["duplicates"] == 1


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"text": "x" * 281}, "text"),
        ({"text": "\u4e2d" * 141}, "text"),  # CJK weighs 2
        ({"text": "   "}, "text"),
        ({"text": 5}, "text"),
        ({"text": "hi", "colour": "red"}, "colour"),
        ({"text": "hi", "reply": "123"}, "reply"),
        ({"text": "hi", "media": {"media_ids": []}}, "media.media_ids"),
        ({"text": "hi", "media": {"media_ids": ["1"]}}, "media.media_ids"),
        ({"text": "hi", "reply_settings": "anyone"}, "reply_settings"),
    ],
)
def test_invalid_bodies_are_400_invalid_request(
    x_sim: XControl, body: dict[str, object], parameter: str
) -> None:
    refused = x_sim.api("POST", "/2/tweets", x_sim.token(), json=body)
    assert refused.status_code == 400, refused.text
    problem = refused.json()
    assert problem["type"] == INVALID
    assert problem["title"] == "Invalid Request"
    assert list(problem["errors"][0]["parameters"]) == [parameter]
    assert x_sim.tweets() == []


def test_text_at_the_weighted_limit_is_accepted(x_sim: XControl) -> None:
    token = x_sim.token()
    x_sim.tweet(token, "x" * 280)
    x_sim.tweet(token, "\u4e2d" * 140)
    x_sim.tweet(token, "https://example.com/" + "p" * 300 + " " + "y" * 256)  # URL counts 23


def test_not_json_is_400(x_sim: XControl) -> None:
    refused = x_sim.api("POST", "/2/tweets", x_sim.token(), content=b"text=hi")
    assert refused.status_code == 400
    assert refused.json()["type"] == INVALID


def test_delete_own_tweet_and_refusals(x_sim: XControl) -> None:
    ada, bob = x_sim.token(ADA), x_sim.token(BOB)
    tweet = x_sim.tweet(ada, "to delete")
    other = x_sim.api("DELETE", f"/2/tweets/{tweet['id']}", bob)
    assert other.status_code == 403
    gone = x_sim.api("DELETE", f"/2/tweets/{tweet['id']}", ada)
    assert gone.status_code == 200
    assert gone.json() == {"data": {"deleted": True}}
    again = x_sim.api("DELETE", f"/2/tweets/{tweet['id']}", ada)
    assert again.status_code == 404
    assert again.json()["type"] == "https://api.x.com/2/problems/resource-not-found"
    assert x_sim.tweets()[0]["deleted"] is True
    assert x_sim.api("GET", f"/2/users/{ADA.id}/tweets", ada).json() == {
        "meta": {"result_count": 0}
    }


def test_timeline_is_newest_first_and_pages(x_sim: XControl) -> None:
    token = x_sim.token()
    ids = [x_sim.tweet(token, f"tweet {n}")["id"] for n in range(12)]
    x_sim.tweet(x_sim.token(BOB), "bob's")
    first = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?max_results=5", token).json()
    assert [t["id"] for t in first["data"]] == ids[::-1][:5]
    assert first["meta"]["result_count"] == 5
    assert (first["meta"]["newest_id"], first["meta"]["oldest_id"]) == (ids[11], ids[7])
    seen = [t["id"] for t in first["data"]]
    token_next = first["meta"]["next_token"]
    while token_next:
        page = x_sim.api(
            "GET",
            f"/2/users/{ADA.id}/tweets?max_results=5&pagination_token={token_next}",
            token,
        ).json()
        seen += [t["id"] for t in page["data"]]
        token_next = page["meta"].get("next_token")
    assert seen == ids[::-1]
    since = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?since_id={ids[9]}", token).json()
    assert [t["id"] for t in since["data"]] == [ids[11], ids[10]]


def test_timeline_filters_and_refusals(x_sim: XControl) -> None:
    token = x_sim.token()
    for bad in ("since_id=abc", "exclude=likes", "start_time=yesterday"):
        empty = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?{bad}", token)
        assert empty.status_code == 400, bad  # refused before any tweet is looked at
    root = x_sim.tweet(token, "root")
    x_sim.tweet(token, "reply", reply={"in_reply_to_tweet_id": root["id"]})
    no_replies = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?exclude=replies", token).json()
    assert [t["id"] for t in no_replies["data"]] == [root["id"]]
    later = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?start_time=2999-01-01T00:00:00Z", token)
    assert later.json() == {"meta": {"result_count": 0}}
    small = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?max_results=3", token)
    assert small.status_code == 400
    assert small.json()["errors"][0]["message"] == (
        "The `max_results` query parameter value [3] is not between 5 and 100"
    )
    nobody = x_sim.api("GET", "/2/users/42/tweets", token)
    assert nobody.status_code == 200
    assert nobody.json()["errors"][0]["detail"] == "Could not find user with id: [42]."


def test_timeline_delay_hides_a_new_tweet_for_a_while(x_sim: XControl) -> None:
    x_sim.configure(timeline_delay_s=2.0)
    token = x_sim.token()
    x_sim.tweet(token, "eventually")
    path = f"/2/users/{ADA.id}/tweets"
    assert x_sim.api("GET", path, token).json()["meta"]["result_count"] == 0
    time.sleep(2.1)
    assert x_sim.api("GET", path, token).json()["meta"]["result_count"] == 1


def test_rate_window_runs_out_with_429(x_sim: XControl) -> None:
    x_sim.configure(tweets_per_window=2)
    token = x_sim.token()
    x_sim.tweet(token, "a")
    x_sim.tweet(token, "b")
    over = x_sim.api("POST", "/2/tweets", token, json={"text": "c"})
    assert over.status_code == 429
    assert over.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    assert over.headers["x-rate-limit-remaining"] == "0"
    assert int(over.headers["x-rate-limit-reset"]) > time.time()
    assert len(x_sim.tweets()) == 2
    assert x_sim.tweet(x_sim.token(BOB), "c")  # the window is per user


def test_daily_caps_per_app_and_user(x_sim: XControl) -> None:
    x_sim.configure(user_tweets_per_day=1, app_tweets_per_day=3)
    ada, bob = x_sim.token(ADA), x_sim.token(BOB)
    first = x_sim.api("POST", "/2/tweets", ada, json={"text": "a"})
    assert first.headers["x-user-limit-24hour-remaining"] == "0"
    capped = x_sim.api("POST", "/2/tweets", ada, json={"text": "b"})
    assert capped.status_code == 429
    assert capped.headers["x-user-limit-24hour-remaining"] == "0"
    assert int(capped.headers["x-user-limit-24hour-reset"]) > time.time() + 86000
    x_sim.tweet(bob, "c")
    app_capped = x_sim.api("POST", "/2/tweets", bob, json={"text": "d"})
    assert app_capped.status_code == 429
    assert app_capped.headers["x-app-limit-24hour-remaining"] == "0"


def test_fault_rate_limit_refuses_until_retry_after(x_sim: XControl) -> None:
    x_sim.configure(retry_after_s=30)
    x_sim.script("rate_limit")
    token = x_sim.token()
    refused = x_sim.api("POST", "/2/tweets", token, json={"text": "a"})
    assert refused.status_code == 429
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert time.time() + 25 < int(refused.headers["x-rate-limit-reset"]) <= time.time() + 31
    assert x_sim.api("POST", "/2/tweets", token, json={"text": "a"}).status_code == 429
    assert x_sim.tweets() == []


@pytest.mark.parametrize(
    ("fault", "status", "created"),
    [("unavailable", 503, 0), ("error_after_create", 500, 1), ("rejected", 400, 0)],
)
def test_faults_answer_and_create_as_named(
    x_sim: XControl, fault: str, status: int, created: int
) -> None:
    x_sim.script(fault)
    answer = x_sim.api("POST", "/2/tweets", x_sim.token(), json={"text": "faulty"})
    assert answer.status_code == status
    assert len(x_sim.tweets()) == created
    assert x_sim.stats()["faults"][fault] == 1


def test_lost_response_creates_and_the_timeline_shows_it(x_sim: XControl) -> None:
    x_sim.script("lost_response", "timeout")
    token = x_sim.token()
    for text in ("in doubt", "never made"):
        with pytest.raises(httpx.ReadTimeout):
            x_sim.api("POST", "/2/tweets", token, json={"text": text}, timeout=CLIENT_TIMEOUT_S)
    assert [t["text"] for t in x_sim.tweets()] == ["in doubt"]  # lost_response only
    timeline = x_sim.api("GET", f"/2/users/{ADA.id}/tweets", token).json()
    assert [t["text"] for t in timeline["data"]] == ["in doubt"]
    # Sending the in-doubt tweet again is not how to settle it: X calls it a duplicate.
    again = x_sim.api("POST", "/2/tweets", token, json={"text": "in doubt"})
    assert again.status_code == 403


def test_latency_applies_to_api_calls(x_sim: XControl) -> None:
    x_sim.configure(latency_ms=300)
    token = x_sim.token()  # control calls take no latency
    started = time.monotonic()
    x_sim.api("GET", "/2/users/me", token)
    assert time.monotonic() - started >= 0.3


def test_config_validation(x_sim: XControl) -> None:
    assert x_sim.http.post("/_sim/config", json={"tweets_per_window": 0}).status_code == 422
    assert x_sim.http.post("/_sim/config", json={"access_token_ttl_s": -1}).status_code == 422
    assert x_sim.http.post("/_sim/config", json={"nonsense": 1}).status_code == 422
    config = x_sim.configure(tweets_per_window=None)
    assert config["tweets_per_window"] is None
    assert "token" not in config


def test_unknown_query_parameters_are_400_and_post_fields_is_tweet_fields(
    x_sim: XControl,
) -> None:
    token = x_sim.token()
    x_sim.tweet(token, "fields")
    refused = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?count=5", token)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["parameters"] == {"count": ["5"]}
    assert refused.json()["errors"][0]["message"].startswith("The query parameter [count] is")
    assert x_sim.api("GET", "/2/users/me?colour=red", token).status_code == 400
    new_name = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?post.fields=author_id", token)
    assert new_name.json()["data"][0]["author_id"] == ADA.id
    expanded = f"/2/users/{ADA.id}/tweets?expansions=attachments.media_keys&media.fields=url"
    assert x_sim.api("GET", expanded, token).status_code == 200
