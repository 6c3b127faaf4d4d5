"""The Meta simulator over loopback HTTP: logins and token exchanges, Page tokens, containers
that really fetch their media URL, status transitions, publish, quotas and Graph's error shape."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from meta_support import (
    IG_ID,
    PAGE,
    THREADS_ID,
    USER,
    Files,
    MetaControl,
    media_files,
    meta_sim,
    meta_sim_url,
)
from support import png, wait_until

__all__ = ["media_files", "meta_sim", "meta_sim_url"]

REDIRECT = "http://127.0.0.1:8080/connect/facebook/callback"
IMAGE = png((200, 30, 30), (32, 32))


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _status(sim: MetaControl, token: str, container: str, field: str = "status_code") -> str:
    body = _ok(sim.graph("GET", f"/v24.0/{container}", token, params={"fields": field}))
    status: str = body[field]
    return status


def test_facebook_login_gives_a_code_a_short_then_a_long_token_and_page_tokens(
    meta_sim: MetaControl,
) -> None:
    query = {"client_id": "herald-sim-app", "redirect_uri": REDIRECT, "state": "s1", "scope": "x"}
    page = meta_sim.http.get("/v24.0/dialog/oauth", params=query)
    assert page.status_code == 200
    assert "herald-sim-app" in page.text
    form = {**query, "user_id": USER.id, "decision": "approve"}
    back = meta_sim.http.post("/v24.0/dialog/oauth", data=form)
    assert back.status_code == 302
    sent = parse_qs(urlsplit(back.headers["location"]).query)
    assert sent["state"] == ["s1"]
    exchange = {
        "client_id": "herald-sim-app",
        "client_secret": "herald-sim-secret",
        "redirect_uri": REDIRECT,
        "code": sent["code"][0],
    }
    short = _ok(meta_sim.http.get("/v24.0/oauth/access_token", params=exchange))
    assert short["expires_in"] <= 3600
    # A code works once.
    again = meta_sim.http.get("/v24.0/oauth/access_token", params=exchange)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == 100
    long = _ok(
        meta_sim.http.get(
            "/v24.0/oauth/access_token",
            params={
                "grant_type": "fb_exchange_token",
                "client_id": "herald-sim-app",
                "client_secret": "herald-sim-secret",
                "fb_exchange_token": short["access_token"],
            },
        )
    )
    assert long["expires_in"] > 50 * 86400
    accounts = _ok(meta_sim.graph("GET", "/v24.0/me/accounts", long["access_token"]))["data"]
    assert [(a["id"], a["instagram_business_account"]["id"]) for a in accounts] == [
        (PAGE.id, IG_ID)
    ]
    me = _ok(meta_sim.graph("GET", "/v24.0/me", accounts[0]["access_token"]))
    assert me == {"id": PAGE.id, "name": PAGE.name}


def test_errors_have_graphs_shape(meta_sim: MetaControl) -> None:
    answer = meta_sim.graph("GET", "/v24.0/me", "EAAnot-a-token")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (190, 463, "OAuthException")
    assert error["is_transient"] is False
    assert error["fbtrace_id"]
    # A user token cannot post to a Page's feed.
    refused = meta_sim.graph(
        "POST", f"/v24.0/{PAGE.id}/feed", meta_sim.token(), data={"message": "x"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == 200


def test_a_container_fetches_its_url_then_publishes_once(
    meta_sim: MetaControl, media_files: Files
) -> None:
    token = meta_sim.token()
    url = media_files.put("a.png", IMAGE)
    created = _ok(
        meta_sim.graph(
            "POST", f"/v24.0/{IG_ID}/media", token, data={"image_url": url, "caption": "Hi"}
        )
    )
    container = created["id"]
    wait_until(lambda: _status(meta_sim, token, container) == "FINISHED" or None)
    [seen] = meta_sim.containers()
    assert seen["fetched"] == {url: hashlib.sha256(IMAGE).hexdigest()}
    limit = _ok(
        meta_sim.graph(
            "GET", f"/v24.0/{IG_ID}/content_publishing_limit", token, params={"fields": "config"}
        )
    )
    assert limit["data"] == [
        {"quota_usage": 0, "config": {"quota_total": 100, "quota_duration": 86400}}
    ]
    published = _ok(
        meta_sim.graph(
            "POST", f"/v24.0/{IG_ID}/media_publish", token, data={"creation_id": container}
        )
    )
    assert _status(meta_sim, token, container) == "PUBLISHED"
    twice = meta_sim.graph(
        "POST", f"/v24.0/{IG_ID}/media_publish", token, data={"creation_id": container}
    )
    assert twice.status_code == 400
    assert twice.json()["error"]["error_subcode"] == 2207008
    link = _ok(
        meta_sim.graph("GET", f"/v24.0/{published['id']}", token, params={"fields": "permalink"})
    )
    assert re.fullmatch(r"https://www\.instagram\.com/p/[\w-]{11}/", link["permalink"])


def test_an_unreachable_url_ends_in_error_and_a_slow_one_is_not_ready(
    meta_sim: MetaControl, media_files: Files
) -> None:
    token = meta_sim.token()
    outside = _ok(
        meta_sim.graph(
            "POST", f"/v24.0/{IG_ID}/media", token, data={"image_url": "http://192.0.2.1/a.jpg"}
        )
    )["id"]
    wait_until(lambda: _status(meta_sim, token, outside) == "ERROR" or None)
    meta_sim.configure(processing_s=30)
    slow = _ok(
        meta_sim.graph(
            "POST",
            f"/v24.0/{IG_ID}/media",
            token,
            data={"image_url": media_files.put("b.png", IMAGE)},
        )
    )["id"]
    wait_until(lambda: meta_sim.containers()[-1]["fetched"] or None)
    assert _status(meta_sim, token, slow) == "IN_PROGRESS"
    early = meta_sim.graph(
        "POST", f"/v24.0/{IG_ID}/media_publish", token, data={"creation_id": slow}
    )
    error = early.json()["error"]
    assert (error["code"], error["error_subcode"]) == (9007, 2207027)


def test_the_quota_refuses_past_its_total(meta_sim: MetaControl) -> None:
    meta_sim.configure(threads_quota=1)
    token = meta_sim.token("threads")
    first = _ok(
        meta_sim.graph(
            "POST", f"/v1.0/{THREADS_ID}/threads", token, data={"media_type": "TEXT", "text": "one"}
        )
    )["id"]
    assert _status(meta_sim, token, first, "status") == "FINISHED"
    _ok(
        meta_sim.graph(
            "POST", f"/v1.0/{THREADS_ID}/threads_publish", token, data={"creation_id": first}
        )
    )
    second = _ok(
        meta_sim.graph(
            "POST", f"/v1.0/{THREADS_ID}/threads", token, data={"media_type": "TEXT", "text": "two"}
        )
    )["id"]
    refused = meta_sim.graph(
        "POST", f"/v1.0/{THREADS_ID}/threads_publish", token, data={"creation_id": second}
    )
    error = refused.json()["error"]
    assert (error["code"], error["error_subcode"]) == (9, 2207042)


def test_a_threads_token_is_exchanged_and_refreshed_after_a_day(meta_sim: MetaControl) -> None:
    short = meta_sim.token("threads", long_lived=False)
    long = _ok(
        meta_sim.http.get(
            "/access_token",
            params={
                "grant_type": "th_exchange_token",
                "client_secret": "herald-sim-secret",
                "access_token": short,
            },
        )
    )
    assert long["expires_in"] > 50 * 86400
    params = {"grant_type": "th_refresh_token", "access_token": long["access_token"]}
    too_new = meta_sim.http.get("/refresh_access_token", params=params)
    assert too_new.status_code == 400
    assert too_new.json()["error"]["code"] == 100
    aged = meta_sim.token("threads", age_s=2 * 86400)
    renewed = _ok(
        meta_sim.http.get(
            "/refresh_access_token", params={"grant_type": "th_refresh_token", "access_token": aged}
        )
    )
    assert renewed["access_token"] != aged
    me = _ok(meta_sim.graph("GET", "/v1.0/me", renewed["access_token"], params={"fields": "id"}))
    assert me["id"] == THREADS_ID
