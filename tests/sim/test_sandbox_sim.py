"""The sandbox simulator's wire protocol, fault injection and control API, over real HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from herald.domain.timestamps import parse_timestamp
from herald.sim.faults import FAULTS
from herald.sim.sandbox import SandboxConfig, SandboxSim, create_sandbox_app
from sim_support import (
    CLIENT_TIMEOUT_S,
    HANG_S,
    SANDBOX_CONTROL_ROUTES,
    SimControl,
    reset_for_test,
    serve_in_thread,
)

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, SandboxSim]]:
    app = create_sandbox_app(SandboxConfig(hang_s=HANG_S))
    with serve_in_thread(app) as base_url:
        yield base_url, app.state.sandbox


@pytest.fixture
def sim(served: tuple[str, SandboxSim]) -> Iterator[SimControl]:
    yield from reset_for_test(SimControl(served[0]))


def body(text: str = "Hello", account: str = "ada", **fields: Any) -> dict[str, Any]:
    return {"account": account, "text": text, **fields}


def test_create_returns_the_post_at_its_public_url(sim: SimControl) -> None:
    media = [{"url": "https://cdn.example/a.png", "kind": "image", "contentType": "image/png"}]
    response = sim.create(body("<b>Hi</b> there", ref="t1:0", media=media), key="k1")
    assert response.status_code == 200, response.text
    post = response.json()
    assert post["id"].isdecimal()
    assert post["url"].startswith(f"{sim.base_url}/p/")
    expected = {"account": "ada", "text": "<b>Hi</b> there", "replyTo": None, "ref": "t1:0"}
    assert {name: post[name] for name in expected} == expected
    assert post["idempotencyKey"] == "k1"
    assert post["media"] == media
    assert TIMESTAMP.fullmatch(post["createdAt"])
    assert "idempotent-replayed" not in response.headers
    assert sim.http.get(f"/v1/posts/{post['id']}").json() == post
    page = httpx.get(post["url"])
    assert page.status_code == 200
    assert "&lt;b&gt;Hi&lt;/b&gt; there" in page.text


def test_ids_are_increasing_decimal_strings(sim: SimControl) -> None:
    ids = [int(sim.create(body(f"post {n}")).json()["id"]) for n in range(5)]
    assert ids == sorted(set(ids))


@pytest.mark.parametrize("post_id", ["999999", "abc", "\u0663", "-1"])
def test_unknown_post_is_404(sim: SimControl, post_id: str) -> None:
    sim.create(body())  # post 3 may exist: the Arabic-Indic digit must still not name it
    response = sim.http.get(f"/v1/posts/{post_id}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert sim.http.get(f"/p/{post_id}").status_code == 404


def test_same_key_replays_the_original(sim: SimControl) -> None:
    first = sim.create(body("once"), key="same")
    again = sim.create(body("once, again"), key="same")
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    stats = sim.stats()
    assert (stats["posts"], stats["replays"], stats["requests"]) == (1, 1, 2)


def test_keys_are_scoped_to_the_account_and_distinct_keys_create(sim: SimControl) -> None:
    ada = sim.create(body(account="ada"), key="k").json()
    bob = sim.create(body(account="bob"), key="k").json()
    other = sim.create(body(account="ada"), key="k2").json()
    assert len({ada["id"], bob["id"], other["id"]}) == 3
    assert sim.stats()["posts"] == 3


def test_a_key_expires_after_its_ttl(sim: SimControl) -> None:
    sim.configure(idempotency_ttl_s=0.2)
    first = sim.create(body(), key="k").json()
    time.sleep(0.3)
    second = sim.create(body(), key="k")
    assert "idempotent-replayed" not in second.headers
    assert second.json()["id"] != first["id"]
    third = sim.create(body(), key="k")  # the new post now owns the key
    assert third.json()["id"] == second.json()["id"]


@pytest.mark.parametrize(
    "payload",
    [
        {"account": "ada"},
        body(""),
        body("   \n"),
        body(42),
        body("x" * 501),
        body(media="https://cdn.example/a.png"),
        body(media=[{"kind": "image"}]),
        body(ref=7),
        body(replyTo="424242"),
        {"text": "no account"},
        ["not", "an", "object"],
    ],
)
def test_invalid_posts_are_422(sim: SimControl, payload: Any) -> None:
    response = sim.http.post("/v1/posts", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_failed"
    assert response.json()["message"]
    assert sim.stats()["posts"] == 0


def test_malformed_json_is_422(sim: SimControl) -> None:
    response = sim.http.post("/v1/posts", content=b"{nope")
    assert (response.status_code, response.json()["error"]) == (422, "validation_failed")


def test_the_limit_counts_graphemes(sim: SimControl) -> None:
    thumbs = "\U0001f44d\U0001f3fd"  # two code points, one grapheme
    assert sim.create(body(thumbs * 500)).status_code == 200
    too_long = sim.create(body(thumbs * 501))
    assert too_long.status_code == 422
    assert "501" in too_long.json()["message"]


def test_reply_to_must_name_a_post_of_the_same_account(sim: SimControl) -> None:
    root = sim.create(body(account="ada")).json()
    reply = sim.create(body("part 2", account="ada", replyTo=root["id"]))
    assert reply.status_code == 200
    assert reply.json()["replyTo"] == root["id"]
    foreign = sim.create(body(account="bob", replyTo=root["id"]))
    assert foreign.status_code == 422
    assert "replyTo" in foreign.json()["message"]


def test_lookup_filters_by_account_key_and_ref(sim: SimControl) -> None:
    wanted = sim.create(body(ref="t:0"), key="k1").json()
    sim.create(body(ref="t:1"), key="k2")
    sim.create(body(account="bob", ref="t:0"), key="k1")

    def lookup(**params: str) -> list[str]:
        response = sim.http.get("/v1/posts", params=params)
        assert response.status_code == 200, response.text
        return [post["id"] for post in response.json()["posts"]]

    assert lookup(account="ada", idempotencyKey="k1") == [wanted["id"]]
    assert lookup(account="ada", ref="t:0") == [wanted["id"]]
    assert lookup(account="ada", idempotencyKey="k1", ref="t:1") == []
    assert lookup(account="ada", idempotencyKey="nope") == []
    assert len(lookup(account="ada")) == 2
    assert sim.http.get("/v1/posts", params={"idempotencyKey": "k1"}).status_code == 422
    assert sim.stats()["lookups"] == 6


def test_rate_limit_fault(sim: SimControl) -> None:
    sim.configure(retry_after_s=7)
    sim.script("rate_limit")
    response = sim.create(body())
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert abs(int(response.headers["x-ratelimit-reset"]) - (time.time() + 7)) < 3
    assert sim.stats()["posts"] == 0


def test_rate_limit_headers_replace_the_derived_ones(sim: SimControl) -> None:
    far = "Fri, 31 Dec 9999 23:59:59 GMT"
    sim.configure(rate_limit_headers={"Retry-After": far})
    sim.script("rate_limit")
    response = sim.create(body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == far
    assert "x-ratelimit-reset" not in response.headers
    assert sim.configure(rate_limit_headers=None)["rate_limit_headers"] is None
    sim.script("rate_limit")
    assert sim.create(body()).headers["retry-after"] == "2"


def test_success_body_is_sent_for_fresh_creates_only(sim: SimControl) -> None:
    sim.configure(success_body='{"id": 7')
    response = sim.create(body(ref="t:0"), key="k")
    assert (response.status_code, response.text) == (200, '{"id": 7')
    assert [post["ref"] for post in sim.posts()] == ["t:0"]
    replayed = sim.create(body(ref="t:0"), key="k")
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json()["ref"] == "t:0"


FAULT_ANSWERS = {
    "unavailable": (503, "unavailable"),
    "timeout": (503, "unavailable"),
    "rejected": (422, "validation_failed"),
}


@pytest.mark.parametrize("fault", sorted(FAULT_ANSWERS))
def test_faults_that_create_nothing(sim: SimControl, fault: str) -> None:
    sim.configure(hang_s=0.2)
    sim.script(fault)
    started = time.monotonic()
    response = sim.create(body(), key="k")
    assert (response.status_code, response.json()["error"]) == FAULT_ANSWERS[fault]
    if fault == "timeout":
        assert time.monotonic() - started >= 0.2
    stats = sim.stats()
    assert stats["posts"] == 0
    assert stats["faults"][fault] == 1
    assert sim.create(body(), key="k").status_code == 200  # the key was not spent


@pytest.mark.parametrize(("fault", "status"), [("error_after_create", 500), ("lost_response", 200)])
def test_faults_that_create_the_post(sim: SimControl, fault: str, status: int) -> None:
    sim.configure(hang_s=0.2)
    sim.script(fault)
    started = time.monotonic()
    response = sim.create(body(ref="t:0"), key="k")
    assert response.status_code == status
    if fault == "lost_response":
        assert time.monotonic() - started >= 0.2
    assert [post["ref"] for post in sim.posts()] == ["t:0"]
    assert sim.create(body(), key="k").headers["idempotent-replayed"] == "true"


def test_a_lost_response_post_is_visible_while_the_answer_is_held(sim: SimControl) -> None:
    sim.script("lost_response")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        sim.http.post("/v1/posts", json=body(), headers={"Idempotency-Key": "k"}, timeout=0.5)
    found = sim.http.get("/v1/posts", params={"account": "ada", "idempotencyKey": "k"})
    assert len(found.json()["posts"]) == 1
    assert time.monotonic() - started < HANG_S  # lookups are not stuck behind the held request


def test_release_answers_the_held_requests_at_once(sim: SimControl) -> None:
    sim.configure(hang_s=600)
    sim.script("lost_response", "timeout")
    with ThreadPoolExecutor(2) as pool:
        calls = [pool.submit(sim.create, body(f"n{n}"), key=f"k{n}") for n in range(2)]
        deadline = time.monotonic() + 10
        while sim.stats()["held"] < 2:
            assert time.monotonic() < deadline, sim.stats()
            time.sleep(0.02)
        assert not any(call.done() for call in calls)
        started = time.monotonic()
        released = sim.http.post("/_sim/release")
        answers = sorted(call.result(timeout=5).status_code for call in calls)
    assert released.json() == {"released": 2}
    assert answers == [200, 503]  # the lost response's post, and the timeout's refusal
    assert time.monotonic() - started < 5  # not the 600 s hang
    assert sim.stats()["held"] == 0
    assert [post["text"] for post in sim.posts()] in (["n0"], ["n1"])


def test_script_is_consumed_in_order_before_random_faults(sim: SimControl) -> None:
    sim.configure(faults={"unavailable": 1.0})
    sim.script("rate_limit", "ok", "error_after_create")
    statuses = [sim.create(body(f"n{n}")).status_code for n in range(4)]
    assert statuses == [429, 200, 500, 503]
    faults = sim.stats()["faults"]
    assert (faults["rate_limit"], faults["error_after_create"], faults["unavailable"]) == (1, 1, 1)


def test_replays_and_invalid_requests_take_no_scripted_fault(sim: SimControl) -> None:
    sim.create(body(), key="k")
    sim.script("rate_limit")
    assert sim.create(body(), key="k").headers["idempotent-replayed"] == "true"
    assert sim.create(body("")).status_code == 422
    assert sim.create(body()).status_code == 429


def test_random_faults_are_reproducible_from_the_seed(sim: SimControl) -> None:
    def run() -> list[int]:
        sim.configure(seed=7, faults={"rate_limit": 0.5})
        return [sim.create(body(f"n{n}")).status_code for n in range(30)]

    first = run()
    sim.reset()
    assert run() == first
    assert set(first) == {200, 429}


def test_config_merges_and_reads_back(sim: SimControl) -> None:
    sim.configure(faults={"rate_limit": 0.25})
    config = sim.configure(latency_ms=5, faults={"timeout": 0.5})
    assert config["faults"]["rate_limit"] == 0.25
    assert config["faults"]["timeout"] == 0.5
    assert config["latency_ms"] == 5
    assert config["hang_s"] == HANG_S
    assert sim.http.get("/_sim/config").json() == config


@pytest.mark.parametrize(
    "changes",
    [
        {"nope": 1},
        {"latency_ms": -1},
        {"latency_ms": True},
        {"retry_after_s": 1.5},
        {"token": ""},
        {"rate_limit_headers": {"Retry-After": "1\r\nX-Injected: 1"}},
        {"rate_limit_headers": {"Bad Name": "1"}},
        {"rate_limit_headers": ["Retry-After"]},
        {"success_body": 5},
        {"capacity": 0},
        {"capacity": 1.5},
        {"seed": "x"},
        {"faults": {"crash": 0.1}},
        {"faults": {"rate_limit": 1.5}},
        {"faults": {"rate_limit": 0.6, "unavailable": 0.6}},
        ["latency_ms", 5],
    ],
)
def test_invalid_config_is_refused_whole(sim: SimControl, changes: Any) -> None:
    before = sim.http.get("/_sim/config").json()
    response = sim.http.post("/_sim/config", json=changes)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_config"
    assert sim.http.get("/_sim/config").json() == before


@pytest.mark.parametrize("script", [{"faults": ["explode"]}, {"faults": "ok"}, ["ok"]])
def test_invalid_script_is_refused(sim: SimControl, script: Any) -> None:
    response = sim.http.post("/_sim/script", json=script)
    assert response.status_code == 422
    assert sim.create(body()).status_code == 200


def test_stats_count_refs_with_more_than_one_post_as_duplicates(sim: SimControl) -> None:
    for ref, copies in (("r1", 2), ("r2", 1), ("r3", 3)):
        for copy in range(copies):
            sim.create(body(ref=ref), key=f"{ref}-{copy}")
    sim.create(body())  # no ref
    stats = sim.stats()
    assert (stats["posts"], stats["refs"], stats["duplicates"]) == (7, 3, 2)
    assert len(sim.posts(ref="r3")) == 3
    assert len(sim.posts()) == 7


def test_latency_applies_to_the_platform_api_only(sim: SimControl) -> None:
    sim.configure(latency_ms=300)
    lookup = {"account": "ada"}
    for call in (lambda: sim.create(body()), lambda: sim.http.get("/v1/posts", params=lookup)):
        started = time.monotonic()
        assert call().status_code == 200
        assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    sim.stats()
    assert time.monotonic() - started < 0.3


def test_creates_past_the_capacity_queue_before_their_latency(sim: SimControl) -> None:
    sim.configure(latency_ms=300, capacity=2)

    def create(n: int) -> dict[str, Any]:
        answer: dict[str, Any] = sim.create(body(f"c{n}")).json()
        return answer

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(create, range(4)))
    created = sorted(parse_timestamp(answer["createdAt"]) for answer in answers)
    # Two at once, then the next two after them: the last waited two latencies.
    assert (created[2] - created[0]).total_seconds() >= 0.3 - 0.002


def test_latency_jitter_stays_within_its_bounds(sim: SimControl) -> None:
    sim.configure(latency_ms=200, latency_jitter_ms=100, seed=1)
    for n in range(4):
        started = time.monotonic()
        sim.create(body(f"n{n}"))
        assert 0.1 <= time.monotonic() - started < 0.3 + 0.25


def test_token_guards_the_platform_api(sim: SimControl) -> None:
    post = sim.create(body()).json()
    sim.configure(token="s3cret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
        response = sim.http.post("/v1/posts", json=body(), headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert "s3cret" not in response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert sim.http.get("/v1/posts", params={"account": "ada"}).status_code == 401
    assert sim.http.get(f"/v1/posts/{post['id']}").status_code == 401
    # "ada" posted before the token was set, without one, so it stays the tokenless account's.
    authorised = sim.create(body(account="grace"), Authorization="Bearer s3cret")
    assert authorised.status_code == 200
    assert httpx.get(post["url"]).status_code == 200  # the public page needs no token


def test_an_account_s_posts_are_read_only_with_the_token_that_created_them(
    sim: SimControl,
) -> None:
    """Without a configured token anyone may post, but the first token that posts for an
    account owns it: other callers neither read its posts nor post in its name."""
    owner, other = {"Authorization": "Bearer owner-token"}, {"Authorization": "Bearer other"}
    post = sim.create(body(account="ada"), key="k1", **owner).json()
    for headers in (other, {}):
        listed = sim.http.get("/v1/posts", params={"account": "ada"}, headers=headers)
        assert listed.json() == {"posts": []}
        by_key = {"account": "ada", "idempotencyKey": "k1"}
        assert sim.http.get("/v1/posts", params=by_key, headers=headers).json() == {"posts": []}
        assert sim.http.get(f"/v1/posts/{post['id']}", headers=headers).status_code == 404
        taken = sim.http.post("/v1/posts", json=body(account="ada"), headers=headers)
        assert taken.status_code == 401
        assert taken.json()["error"] == "invalid_token"
        replayed = sim.create(body(account="ada"), key="k1", **headers)
        assert replayed.status_code == 401  # a replay would hand the owner's post back
    assert sim.stats()["posts"] == 1
    mine = sim.http.get("/v1/posts", params={"account": "ada"}, headers=owner).json()
    assert mine == {"posts": [post]}
    assert sim.http.get(f"/v1/posts/{post['id']}", headers=owner).json() == post
    # The public page is at an address only the post's answer gives, not at its id.
    assert sim.http.get(f"/p/{post['id']}").status_code == 404
    assert "Hello" in httpx.get(post["url"]).text


def test_without_control_the_sim_routes_do_not_exist() -> None:
    app = create_sandbox_app(control=False)
    with serve_in_thread(app) as base, httpx.Client(base_url=base) as http:
        created = http.post("/v1/posts", json=body())
        assert created.status_code == 200
        for method, path in SANDBOX_CONTROL_ROUTES:
            json = {"faults": ["rejected"]} if method == "POST" else None
            assert http.request(method, path, json=json).status_code == 404, path
        assert http.post("/v1/posts", json=body()).status_code == 200  # no fault was scripted


def test_reset_restores_the_initial_state(sim: SimControl) -> None:
    old = sim.create(body(ref="r"), key="k").json()
    sim.configure(latency_ms=50, token="t", faults={"unavailable": 1.0})
    sim.script("rate_limit")
    sim.reset()
    stats = sim.stats()
    assert stats.pop("faults") == dict.fromkeys(FAULTS, 0)
    assert set(stats.values()) == {0}
    config = sim.http.get("/_sim/config").json()
    assert (config["latency_ms"], config["token"], config["hang_s"]) == (0, None, HANG_S)
    new = sim.create(body(ref="r"), key="k")
    assert new.status_code == 200  # no script left, no token, no random fault
    assert int(new.json()["id"]) > int(old["id"])


def test_state_is_on_the_app(sim: SimControl, served: tuple[str, SandboxSim]) -> None:
    post_id = int(sim.create(body(ref="r"), key="k").json()["id"])
    assert served[1].posts[post_id].text == "Hello"
    assert served[1].find("ada", "k", None)[0].id == post_id


def test_mounted_under_a_path_prefix() -> None:
    outer = Starlette(routes=[Mount("/sim/sandbox", app=create_sandbox_app())])
    with serve_in_thread(outer) as root, httpx.Client(timeout=CLIENT_TIMEOUT_S * 5) as http:
        base = f"{root}/sim/sandbox"
        response = http.post(f"{base}/v1/posts", json=body(), headers={"Idempotency-Key": "k"})
        assert response.status_code == 200, response.text
        post = response.json()
        assert post["url"].startswith(f"{base}/p/")
        assert "Hello" in http.get(post["url"]).text
        found = http.get(f"{base}/v1/posts", params={"account": "ada", "idempotencyKey": "k"})
        assert found.json()["posts"] == [post]
        assert http.get(f"{base}/_sim/posts").json()["posts"] == [post]
        assert http.get(f"{base}/_sim/stats").json()["posts"] == 1
        assert http.post(f"{root}/v1/posts", json=body()).status_code == 404


def test_a_held_request_ends_when_the_client_hangs_up() -> None:
    inner = create_sandbox_app(SandboxConfig(hang_s=HANG_S))
    finished: list[float] = []

    async def timed(scope: Scope, receive: Receive, send: Send) -> None:
        await inner(scope, receive, send)
        if scope["path"] == "/v1/posts":  # not the control calls, which may finish later
            finished.append(time.monotonic())

    with serve_in_thread(timed) as base, httpx.Client(base_url=base) as http:
        for fault in ("lost_response", "timeout"):
            http.post("/_sim/script", json={"faults": [fault]})
            finished.clear()
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                http.post("/v1/posts", json=body(), timeout=0.3)
            deadline = time.monotonic() + HANG_S
            while not finished and time.monotonic() < deadline:
                time.sleep(0.02)
            assert finished, f"{fault}: the simulator still holds the request"
            assert finished[0] - started < HANG_S / 2
