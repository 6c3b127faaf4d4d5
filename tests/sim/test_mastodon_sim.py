"""The Mastodon simulator's wire protocol, rules, faults and control API, over real HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from herald.sim.mastodon import create_mastodon_app
from herald.sim.mastodon_multipart import MultipartError, MultipartReader, PartHeader
from mastodon_support import ADA, BOB, MP4, PNG, TOKEN, MastodonControl, sim_config
from sim_support import CLIENT_TIMEOUT_S, serve_in_thread

SNOWFLAKE = re.compile(r"\d{18}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
ISO_RESET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


@pytest.fixture(scope="module")
def mastodon_sim_url() -> Iterator[str]:
    # Long enough that "still processing" cannot end under a slow test; tests that need
    # processed video set the delay to 0 first.
    with serve_in_thread(create_mastodon_app(sim_config(processing_delay_s=60))) as base_url:
        yield base_url


def upload(
    mastodon_sim: MastodonControl, data: bytes = PNG, content_type: str = "image/png", **fields: str
) -> httpx.Response:
    files = {"file": ("upload.bin", data, content_type)}
    return mastodon_sim.api("POST", "/api/v2/media", files=files, data=fields)


def create(
    mastodon_sim: MastodonControl, body: dict[str, Any], token: str = TOKEN, **headers: str
) -> Any:
    return mastodon_sim.api("POST", "/api/v1/statuses", token, json=body, headers=headers)


def test_verify_credentials_names_the_tokens_account(mastodon_sim: MastodonControl) -> None:
    account = mastodon_sim.api("GET", "/api/v1/accounts/verify_credentials").json()
    assert (account["id"], account["username"], account["acct"]) == (ADA.id, "ada", "ada")
    assert account["url"] == f"{mastodon_sim.base_url}/@ada"
    assert account["avatar"] == ADA.avatar
    assert account["source"]["privacy"] == "public"
    for token in ("mtok-wrong", None):
        refused = mastodon_sim.api("GET", "/api/v1/accounts/verify_credentials", token)
        assert refused.status_code == 401
        assert refused.json() == {"error": "The access token is invalid"}
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]


def test_instance_configuration_follows_the_config(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(max_characters=1000)
    instance = mastodon_sim.api("GET", "/api/v2/instance", None).json()
    statuses = instance["configuration"]["statuses"]
    assert statuses == {
        "max_characters": 1000,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    }
    media = instance["configuration"]["media_attachments"]
    assert {"image/jpeg", "image/png", "video/mp4"} <= set(media["supported_mime_types"])
    assert media["description_limit"] == 1500


def test_a_status_is_rendered_as_mastodon_does(mastodon_sim: MastodonControl) -> None:
    text = 'Hi <you> & "them"\nline two\n\nSee https://example.com/x. #Tags @bob @zed'
    response = create(mastodon_sim, {"status": text})
    assert response.status_code == 200, response.text
    status = response.json()
    assert SNOWFLAKE.fullmatch(status["id"])
    assert TIMESTAMP.fullmatch(status["created_at"])
    assert status["url"] == f"{mastodon_sim.base_url}/@ada/{status['id']}"
    assert status["uri"] == f"{mastodon_sim.base_url}/users/ada/statuses/{status['id']}"
    assert (status["visibility"], status["in_reply_to_id"], status["account"]["id"]) == (
        "public",
        None,
        ADA.id,
    )
    content = status["content"]
    assert content.startswith("<p>Hi &lt;you&gt; &amp; &quot;them&quot;<br />line two</p><p>See ")
    assert '<a href="https://example.com/x" target="_blank"' in content
    assert '</a>. <a href="' in content  # the full stop is not part of the link
    assert 'class="mention hashtag" rel="tag">#<span>Tags</span></a>' in content
    assert 'class="u-url mention">@<span>bob</span></a>' in content
    assert content.endswith(" @zed</p>")  # nobody here is called zed: plain text
    assert mastodon_sim.api("GET", f"/api/v1/statuses/{status['id']}", None).json() == status


def test_ids_grow_and_survive_a_reset(mastodon_sim: MastodonControl) -> None:
    first = create(mastodon_sim, {"status": "one"}).json()["id"]
    mastodon_sim.reset()
    second = create(mastodon_sim, {"status": "two"}).json()["id"]
    assert int(second) > int(first)
    assert mastodon_sim.api("GET", f"/api/v1/statuses/{first}", None).status_code == 404


def test_a_key_replays_the_accounts_status_for_its_ttl(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(idempotency_ttl_s=1.0)
    first = create(mastodon_sim, {"status": "once"}, **{"Idempotency-Key": "k"}).json()
    again = create(mastodon_sim, {"status": "different body"}, **{"Idempotency-Key": "k"})
    assert again.json() == first  # the body is not even checked
    bobs = create(mastodon_sim, {"status": "once"}, BOB.token, **{"Idempotency-Key": "k"}).json()
    assert bobs["id"] != first["id"]  # keys are per account
    time.sleep(1.05)
    later = create(mastodon_sim, {"status": "once"}, **{"Idempotency-Key": "k"}).json()
    assert later["id"] != first["id"]
    stats = mastodon_sim.stats()
    assert (stats["creates"], stats["keyed"], stats["replays"], stats["statuses"]) == (4, 4, 1, 3)
    assert stats["idempotency_keys"] == ["k"] * 4


def test_a_replay_still_needs_its_parent(mastodon_sim: MastodonControl) -> None:
    parent = create(mastodon_sim, {"status": "parent"}).json()
    body = {"status": "reply", "in_reply_to_id": parent["id"]}
    assert create(mastodon_sim, body, **{"Idempotency-Key": "r"}).status_code == 200
    missing = {"status": "reply", "in_reply_to_id": "113999999999999999"}
    refused = create(mastodon_sim, missing, **{"Idempotency-Key": "r"})
    assert refused.status_code == 404
    assert refused.json() == {
        "error": "The post you are trying to reply to does not appear to exist."
    }


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"status": "\U0001f44d\U0001f3fd" * 500}, True),  # 1,000 code points, 500 graphemes
        ({"status": "\U0001f44d\U0001f3fd" * 501}, False),
        ({"status": "a" * 476 + " https://example.com/" + "p" * 300}, True),  # 477 + 23
        ({"status": "a" * 477 + " https://example.com/" + "p" * 300}, False),
        ({"status": "a" * 470 + " @bob@very.long.domain.example"}, True),  # 471 + 4
        ({"status": "a" * 490, "spoiler_text": "b" * 11}, False),  # they count together
    ],
)
def test_length_is_counted_as_mastodon_counts(
    mastodon_sim: MastodonControl, body: dict[str, str], accepted: bool
) -> None:
    response = create(mastodon_sim, body)
    assert response.status_code == (200 if accepted else 422), response.text
    if not accepted:
        assert response.json() == {
            "error": "Validation failed: Text character limit of 500 exceeded"
        }


def test_blank_text_needs_media(mastodon_sim: MastodonControl) -> None:
    assert create(mastodon_sim, {"status": "  "}).json() == {
        "error": "Validation failed: Text can't be blank"
    }
    media_id = upload(mastodon_sim).json()["id"]
    assert create(mastodon_sim, {"status": "", "media_ids": [media_id]}).status_code == 200


def test_media_ids_are_checked_as_mastodon_checks_them(mastodon_sim: MastodonControl) -> None:
    ids = [upload(mastodon_sim).json()["id"] for _ in range(5)]
    bobs = mastodon_sim.api(
        "POST", "/api/v2/media", BOB.token, files={"file": ("a.png", PNG, "image/png")}
    )
    assert bobs.status_code == 200
    pending = upload(mastodon_sim, MP4, "video/mp4").json()["id"]
    mastodon_sim.configure(processing_delay_s=0)
    video = upload(mastodon_sim, MP4, "video/mp4").json()["id"]

    def error(media_ids: list[str]) -> str:
        response = create(mastodon_sim, {"status": "media", "media_ids": media_ids})
        assert response.status_code == 422
        message: str = response.json()["error"]
        return message

    assert error(ids) == "Cannot attach more than 4 files"
    assert error([ids[0], bobs.json()["id"]]) == (
        f"Media {bobs.json()['id']} not found or already attached to another post"
    )
    assert error([pending]).startswith("Cannot attach files that have not finished processing")
    assert error([ids[0], video]) == "Cannot attach a video to a post that already contains images"
    assert create(mastodon_sim, {"status": "ok", "media_ids": ids[:4]}).status_code == 200
    assert error([ids[0]]) == f"Media {ids[0]} not found or already attached to another post"


def test_a_form_encoded_status_is_read_too(mastodon_sim: MastodonControl) -> None:
    media_id = upload(mastodon_sim).json()["id"]
    form = {"status": "from a form", "visibility": "unlisted", "media_ids[]": [media_id]}
    response = mastodon_sim.api("POST", "/api/v1/statuses", data=form)
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["visibility"], [m["id"] for m in status["media_attachments"]]) == (
        "unlisted",
        [media_id],
    )


def test_an_image_upload_is_processed_at_once(mastodon_sim: MastodonControl) -> None:
    response = upload(mastodon_sim, description="A cat")
    assert response.status_code == 200
    media = response.json()
    assert (media["type"], media["description"]) == ("image", "A cat")
    assert media["url"].startswith(f"{mastodon_sim.base_url}/system/media_attachments/files/")


def test_a_video_processes_in_the_background(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(processing_delay_s=1.0)
    accepted = upload(mastodon_sim, MP4, "video/mp4")
    assert (accepted.status_code, accepted.json()["url"]) == (202, None)
    path = f"/api/v1/media/{accepted.json()['id']}"
    assert mastodon_sim.api("GET", path).status_code == 206
    assert mastodon_sim.api("GET", path, BOB.token).status_code == 404  # someone else's media
    deadline = time.monotonic() + 10
    while (
        done := mastodon_sim.api("GET", path)
    ).status_code == 206 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done.status_code == 200
    assert done.json()["url"] is not None
    assert upload(mastodon_sim, b"GIF89a", "image/gif").json()["type"] == "gifv"


def test_scripted_processing_failures(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(processing_delay_s=0)
    mastodon_sim.script_media("fail", "fail")
    video = upload(mastodon_sim, MP4, "video/mp4").json()["id"]
    image = upload(mastodon_sim)
    assert image.status_code == 500
    assert image.json() == {"error": "Error processing thumbnail for uploaded media"}
    failed = mastodon_sim.api("GET", f"/api/v1/media/{video}")
    assert failed.status_code == 422
    assert upload(mastodon_sim).status_code == 200  # the script is used up


@pytest.mark.parametrize(
    ("send", "status", "error"),
    [
        ({"data": {"description": "no file"}}, 422, "Validation failed: File can't be blank"),
        (
            {"files": {"file": ("a.pdf", b"%PDF", "application/pdf")}},
            422,
            "Validation failed: File content type is invalid, File is invalid",
        ),
        (
            {"files": {"file": ("a.png", PNG, "image/png")}, "data": {"description": "x" * 1501}},
            422,
            "Validation failed: Description is too long (maximum is 1500 characters)",
        ),
        (
            {
                "content": b"--b\r\nnonsense",
                "headers": {"Content-Type": "multipart/form-data; boundary=b"},
            },
            400,
            "Error occurred while parsing request parameters",
        ),
    ],
)
def test_uploads_mastodon_refuses(
    mastodon_sim: MastodonControl, send: dict[str, Any], status: int, error: str
) -> None:
    response = mastodon_sim.api("POST", "/api/v2/media", **send)
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert mastodon_sim.media() == []


def test_the_size_limit_depends_on_the_kind(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(image_size_limit=1024, video_size_limit=2 * 1024 * 1024)
    assert upload(mastodon_sim).json() == {
        "error": "Validation failed: File file size must be less than 1 KB"
    }
    assert upload(mastodon_sim, MP4, "video/mp4").status_code == 202


def test_the_timeline_pages_newest_first(mastodon_sim: MastodonControl) -> None:
    ids = [create(mastodon_sim, {"status": f"post {n}"}).json()["id"] for n in range(5)]
    create(mastodon_sim, {"status": "bob's"}, BOB.token)
    path = f"/api/v1/accounts/{ADA.id}/statuses"
    first = mastodon_sim.api("GET", path, None, params={"limit": 2})
    assert [s["id"] for s in first.json()] == ids[:-3:-1]
    assert f"max_id={ids[3]}" in first.links["next"]["url"]
    second = mastodon_sim.http.get(first.links["next"]["url"])
    assert [s["id"] for s in second.json()] == [ids[2], ids[1]]
    newer = mastodon_sim.api("GET", path, None, params={"min_id": ids[0], "limit": 2}).json()
    assert [s["id"] for s in newer] == [ids[2], ids[1]]
    assert mastodon_sim.api("GET", "/api/v1/accounts/1/statuses", None).json() == {
        "error": "Record not found"
    }


def test_exclude_replies_keeps_self_replies(mastodon_sim: MastodonControl) -> None:
    root = create(mastodon_sim, {"status": "root"}).json()
    own = create(mastodon_sim, {"status": "own", "in_reply_to_id": root["id"]}).json()
    bobs = create(mastodon_sim, {"status": "bob's"}, BOB.token).json()
    other = create(mastodon_sim, {"status": "to bob", "in_reply_to_id": bobs["id"]}).json()
    path = f"/api/v1/accounts/{ADA.id}/statuses"
    shown = mastodon_sim.api("GET", path, params={"exclude_replies": "true"}).json()
    assert [s["id"] for s in shown] == [own["id"], root["id"]]
    everything = mastodon_sim.api("GET", path).json()
    assert [s["id"] for s in everything] == [other["id"], own["id"], root["id"]]
    context = mastodon_sim.api("GET", f"/api/v1/statuses/{own['id']}/context").json()
    assert [s["id"] for s in context["ancestors"]] == [root["id"]]


@pytest.mark.parametrize(("reset_format", "pattern"), [("iso", ISO_RESET), ("epoch", r"\d{10}")])
def test_rate_limit_headers_and_the_window(
    mastodon_sim: MastodonControl, reset_format: str, pattern: str | re.Pattern[str]
) -> None:
    # An hour's window: the test is unlikely to straddle the (aligned) window's end.
    mastodon_sim.configure(rate_limit=2, rate_window_s=3600, reset_format=reset_format)
    first = mastodon_sim.api("GET", "/api/v1/accounts/verify_credentials")
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == (
        "2",
        "1",
    )
    assert re.fullmatch(pattern, first.headers["x-ratelimit-reset"])
    assert mastodon_sim.api("GET", "/api/v1/accounts/verify_credentials").status_code == 200
    over = create(mastodon_sim, {"status": "one too many"})
    assert (over.status_code, over.json()) == (429, {"error": "Too many requests"})
    assert over.headers["x-ratelimit-remaining"] == "0"
    assert "retry-after" not in over.headers  # Mastodon sends none
    assert create(mastodon_sim, {"status": "still"}, BOB.token).status_code == 200  # per account
    assert "x-ratelimit-limit" not in mastodon_sim.api("GET", "/api/v2/instance", None).headers
    assert mastodon_sim.stats()["rate_limited"] == 1


def test_faults_that_create_nothing(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(retry_after_s=9)
    mastodon_sim.script("rate_limit", "unavailable", "rejected")
    limited = create(mastodon_sim, {"status": "a"})
    assert limited.status_code == 429
    assert 7 <= _seconds_until(limited.headers["x-ratelimit-reset"]) <= 9
    assert create(mastodon_sim, {"status": "a"}).status_code == 503
    assert create(mastodon_sim, {"status": "a"}).json() == {
        "error": "Validation failed: rejected by fault injection"
    }
    assert mastodon_sim.statuses() == []
    assert mastodon_sim.stats()["faults"]["rate_limit"] == 1


def test_faults_that_create_the_status(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.script("error_after_create", "lost_response")
    assert create(mastodon_sim, {"status": "kept"}).status_code == 500
    with pytest.raises(httpx.ReadTimeout):
        mastodon_sim.api(
            "POST", "/api/v1/statuses", json={"status": "held"}, timeout=CLIENT_TIMEOUT_S
        )
    assert [s["text"] for s in mastodon_sim.statuses()] == ["kept", "held"]


def test_a_timeout_holds_then_creates_nothing(mastodon_sim: MastodonControl) -> None:
    mastodon_sim.configure(hang_s=0.2)
    mastodon_sim.script("timeout")
    started = time.monotonic()
    assert create(mastodon_sim, {"status": "late"}).status_code == 503
    assert time.monotonic() - started >= 0.2
    assert mastodon_sim.statuses() == []


def test_replays_and_invalid_requests_take_no_fault(mastodon_sim: MastodonControl) -> None:
    create(mastodon_sim, {"status": "first"}, **{"Idempotency-Key": "k"})
    mastodon_sim.script("unavailable")
    assert create(mastodon_sim, {"status": "again"}, **{"Idempotency-Key": "k"}).status_code == 200
    assert create(mastodon_sim, {"status": ""}).status_code == 422
    assert create(mastodon_sim, {"status": "now"}).status_code == 503


def _seconds_until(reset: str) -> float:
    return datetime.fromisoformat(reset).timestamp() - time.time()


def test_config_merges_reads_back_and_refuses_bad_fields(mastodon_sim: MastodonControl) -> None:
    config = mastodon_sim.configure(latency_ms=5, max_characters=600, faults={"unavailable": 0.5})
    assert (config["latency_ms"], config["max_characters"]) == (5, 600)
    assert config["faults"]["unavailable"] == 0.5
    assert "token" not in config
    assert all("token" not in account for account in config["accounts"])
    for bad in (
        {"token": "x"},
        {"max_characters": 0},
        {"reset_format": "rfc"},
        {"rate_window_s": 0},
        {"latency_ms": 1, "nope": 2},
        {"faults": {"boom": 1}},
    ):
        response = mastodon_sim.http.post("/_sim/config", json=bad)
        assert response.status_code == 422, bad
    assert mastodon_sim.http.get("/_sim/config").json()["latency_ms"] == 5  # nothing half-applied


def test_scripts_are_validated_whole(mastodon_sim: MastodonControl) -> None:
    for bad in ({}, {"faults": ["boom"]}, {"media": ["explode"]}, {"faults": ["ok"], "media": "x"}):
        assert mastodon_sim.http.post("/_sim/script", json=bad).status_code == 422, bad
    assert mastodon_sim.http.post(
        "/_sim/script", json={"faults": ["ok"], "media": ["fail"]}
    ).json() == {
        "faults": ["ok"],
        "media": ["fail"],
    }


def test_accounts_can_be_added_until_the_next_reset(mastodon_sim: MastodonControl) -> None:
    added = mastodon_sim.http.post("/_sim/accounts", json={"username": "cyd", "token": "cyd-token"})
    assert added.status_code == 200
    assert (
        mastodon_sim.api("GET", "/api/v1/accounts/verify_credentials", "cyd-token").json()["id"]
        == (added.json()["id"])
    )
    clash = mastodon_sim.http.post("/_sim/accounts", json={"username": "ada", "token": "fresh"})
    assert clash.status_code == 422
    names = [a["username"] for a in mastodon_sim.http.get("/_sim/accounts").json()["accounts"]]
    assert names == ["ada", "bob", "cyd"]
    mastodon_sim.reset()
    assert (
        mastodon_sim.api("GET", "/api/v1/accounts/verify_credentials", "cyd-token").status_code
        == 401
    )


def test_mounted_under_a_path_prefix() -> None:
    app = Starlette(routes=[Mount("/sim/mastodon", app=create_mastodon_app(sim_config()))])
    with serve_in_thread(app) as base_url:
        control = MastodonControl(f"{base_url}/sim/mastodon")
        status = create(control, {"status": "mounted"}).json()
        assert status["url"] == f"{base_url}/sim/mastodon/@ada/{status['id']}"
        control.close()


class _Recorder:
    def __init__(self) -> None:
        self.parts: list[tuple[PartHeader, bytes]] = []

    def start(self, part: PartHeader) -> None:
        self.parts.append((part, b""))

    def data(self, chunk: bytes) -> None:
        part, body = self.parts[-1]
        self.parts[-1] = (part, body + chunk)

    def end(self) -> None:
        pass


BODY = (
    b'preamble\r\n--xyz\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
    b'alt\r\n--xy text\r\n--xyz\r\nContent-Disposition: form-data; name="file"; '
    b'filename="a.png"\r\nContent-Type: image/png\r\n\r\n\r\n--x\x00\xff\r\n--xyz--\r\nepilogue'
)


@pytest.mark.parametrize("size", [1, 2, 7, len(BODY)])
def test_the_multipart_reader_finds_parts_across_any_chunking(size: int) -> None:
    recorder = _Recorder()
    reader = MultipartReader(b"xyz", recorder)
    for start in range(0, len(BODY), size):
        reader.feed(BODY[start : start + size])
    reader.close()
    assert recorder.parts == [
        (PartHeader("description", None, None), b"alt\r\n--xy text"),
        (PartHeader("file", "a.png", "image/png"), b"\r\n--x\x00\xff"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        BODY[:120],
        b"--xyz\r\nNo-Colon\r\n\r\n",
        b"--xyz\r\nContent-Disposition: inline\r\n\r\n",
        b"--xyzGARBAGE",
    ],
)
def test_the_multipart_reader_refuses_broken_bodies(body: bytes) -> None:
    def read() -> None:
        reader = MultipartReader(b"xyz", _Recorder())
        reader.feed(body)
        reader.close()

    with pytest.raises(MultipartError):
        read()
