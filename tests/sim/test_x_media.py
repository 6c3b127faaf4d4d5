"""The X simulator's v2 media upload: one-shot photos, chunked video with processing states,
the command form, attaching media to tweets, refusals and bytes kept intact, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import httpx
import pytest

from sim_support import CLIENT_TIMEOUT_S
from x_support import ADA, BOB, MP4, PNG, XControl

INVALID = "https://api.x.com/2/problems/invalid-request"
CHUNK = 256 * 1024


def one_shot(x_sim: XControl, token: str, data: bytes = PNG, **fields: str) -> Any:
    files = {"media": ("blob", data, "application/octet-stream")}
    body = {"media_category": "tweet_image", **fields}
    return x_sim.api("POST", "/2/media/upload", token, files=files, data=body)


def chunked_video(x_sim: XControl, token: str, data: bytes = MP4) -> str:
    """Initialize, append in chunks (JSON, base64) and finalize; the media id."""
    init = x_sim.api(
        "POST",
        "/2/media/upload/initialize",
        token,
        json={"media_type": "video/mp4", "total_bytes": len(data), "media_category": "tweet_video"},
    )
    assert init.status_code == 200, init.text
    media_id: str = init.json()["data"]["id"]
    for index, start in enumerate(range(0, len(data), CHUNK)):
        chunk = base64.b64encode(data[start : start + CHUNK]).decode()
        body = {"media": chunk, "segment_index": index}
        appended = x_sim.api("POST", f"/2/media/upload/{media_id}/append", token, json=body)
        assert appended.status_code == 200, appended.text
        assert appended.json()["data"]["expires_at"] > time.time()
    return media_id


def finalize(x_sim: XControl, token: str, media_id: str) -> Any:
    return x_sim.api("POST", f"/2/media/upload/{media_id}/finalize", token)


def status_of(x_sim: XControl, token: str, media_id: str) -> dict[str, Any]:
    query = f"/2/media/upload?command=STATUS&media_id={media_id}"
    answer = x_sim.api("GET", query, token)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def test_one_shot_photo_is_ready_at_once_and_attaches(x_sim: XControl) -> None:
    token = x_sim.token()
    answer = one_shot(x_sim, token)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["media_key"] == f"3_{data['id']}"
    assert data["size"] == len(PNG)
    assert "processing_info" not in data
    assert answer.headers["x-rate-limit-limit"] == "1875"
    tweet = x_sim.tweet(token, "with a picture", media={"media_ids": [data["id"]]})
    (stored,) = x_sim.tweets()
    assert stored["media_ids"] == [data["id"]]
    timeline = x_sim.api("GET", f"/2/users/{ADA.id}/tweets?tweet.fields=attachments", token)
    assert timeline.json()["data"][0]["attachments"] == {"media_keys": [data["media_key"]]}
    assert tweet["text"] == "with a picture"
    (media,) = x_sim.media()
    assert media["sha256"] == hashlib.sha256(PNG).hexdigest()


def test_one_shot_in_json_takes_base64(x_sim: XControl) -> None:
    body = {"media": base64.b64encode(PNG).decode(), "media_category": "tweet_image"}
    answer = x_sim.api("POST", "/2/media/upload", x_sim.token(), json=body)
    assert answer.status_code == 200
    assert x_sim.media()[0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    broken = x_sim.api("POST", "/2/media/upload", x_sim.token(), json={**body, "media": "%%%"})
    assert broken.status_code == 400


def test_chunked_video_goes_through_pending_in_progress_succeeded(x_sim: XControl) -> None:
    """docs x-api/media/quickstart/media-upload-chunked: INIT, APPEND, FINALIZE, STATUS;
    pending -> in_progress -> succeeded | failed; check_after_secs."""
    x_sim.configure(processing_s=3.0)
    token = x_sim.token()
    media_id = chunked_video(x_sim, token)
    done = finalize(x_sim, token, media_id).json()["data"]
    assert done["media_key"] == f"7_{media_id}"
    assert done["size"] == len(MP4)
    assert done["processing_info"]["state"] == "pending"
    assert done["processing_info"]["check_after_secs"] == 1
    body = {"text": "v", "media": {"media_ids": [media_id]}}
    early = x_sim.api("POST", "/2/tweets", token, json=body)
    assert early.status_code == 400
    assert early.json()["errors"][0]["message"] == "Your media IDs are invalid."
    time.sleep(1.0)
    middle = status_of(x_sim, token, media_id)["processing_info"]
    assert middle["state"] == "in_progress"
    assert 0 < middle["progress_percent"] < 100
    deadline = time.monotonic() + 10
    while status_of(x_sim, token, media_id)["processing_info"]["state"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    final = status_of(x_sim, token, media_id)["processing_info"]
    assert final == {"state": "succeeded", "progress_percent": 100}
    x_sim.tweet(token, "a video", media={"media_ids": [media_id]})
    (media,) = x_sim.media()
    assert media["sha256"] == hashlib.sha256(MP4).hexdigest()
    assert media["segments"] == list(range(len(range(0, len(MP4), CHUNK))))
    assert x_sim.stats()["status_polls"] >= 3


def test_scripted_processing_failure(x_sim: XControl) -> None:
    x_sim.configure(processing_s=0.05)
    x_sim.script_media("fail")
    token = x_sim.token()
    media_id = chunked_video(x_sim, token)
    finalize(x_sim, token, media_id)
    time.sleep(0.1)
    info = status_of(x_sim, token, media_id)["processing_info"]
    assert info["state"] == "failed"
    assert info["error"]["name"] == "InvalidMedia"
    refused = x_sim.api(
        "POST", "/2/tweets", token, json={"text": "v", "media": {"media_ids": [media_id]}}
    )
    assert refused.status_code == 400


def test_multipart_append_and_command_form(x_sim: XControl) -> None:
    token = x_sim.token()
    init = x_sim.api(
        "POST",
        "/2/media/upload",
        token,
        files={
            "command": (None, "INIT"),
            "media_type": (None, "image/gif"),
            "total_bytes": (None, str(len(PNG))),
        },
    )
    assert init.status_code == 200, init.text
    media_id = init.json()["data"]["id"]
    assert init.json()["data"]["media_key"] == f"16_{media_id}"
    half = len(PNG) // 2
    for index, part in enumerate((PNG[:half], PNG[half:])):
        files = {"media": ("blob", part), "segment_index": (None, str(index))}
        path = f"/2/media/upload/{media_id}/append"
        assert x_sim.api("POST", path, token, files=files).status_code == 200
    fin = x_sim.api(
        "POST",
        "/2/media/upload",
        token,
        files={"command": (None, "FINALIZE"), "media_id": (None, media_id)},
    )
    assert fin.status_code == 200
    assert fin.json()["data"]["processing_info"]["state"] == "pending"
    assert x_sim.media()[0]["sha256"] == hashlib.sha256(PNG).hexdigest()


def test_finalize_refuses_missing_or_extra_bytes(x_sim: XControl) -> None:
    token = x_sim.token()
    init = x_sim.api(
        "POST",
        "/2/media/upload/initialize",
        token,
        json={"media_type": "video/mp4", "total_bytes": 10},
    )
    media_id = init.json()["data"]["id"]
    path = f"/2/media/upload/{media_id}/append"
    five = base64.b64encode(b"12345").decode()
    assert (
        x_sim.api("POST", path, token, json={"media": five, "segment_index": 0}).status_code == 200
    )
    short = finalize(x_sim, token, media_id)
    assert short.status_code == 400
    assert (
        short.json()["errors"][0]["message"]
        == "Segments do not add up to provided total file size."
    )
    eleven = base64.b64encode(b"12345678901").decode()
    over = x_sim.api("POST", path, token, json={"media": eleven, "segment_index": 1})
    assert over.status_code == 400
    again = x_sim.api("POST", path, token, json={"media": five, "segment_index": 1})
    assert again.status_code == 200
    assert finalize(x_sim, token, media_id).status_code == 200
    twice = finalize(x_sim, token, media_id)  # answers the state again
    assert twice.status_code == 200
    late = x_sim.api("POST", path, token, json={"media": five, "segment_index": 2})
    assert late.status_code == 400


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"media_type": "video/mp4", "total_bytes": 0}, "total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": 513 * 1024 * 1024}, "total_bytes"),
        ({"media_type": "image/png", "total_bytes": 6 * 1024 * 1024}, "total_bytes"),
        ({"media_type": "application/pdf", "total_bytes": 10}, "media_type"),
        (
            {"media_type": "image/png", "total_bytes": 10, "media_category": "tweet_video"},
            "media_category",
        ),
    ],
)
def test_initialize_refusals(x_sim: XControl, body: dict[str, Any], parameter: str) -> None:
    refused = x_sim.api("POST", "/2/media/upload/initialize", x_sim.token(), json=body)
    assert refused.status_code == 400
    assert refused.json()["type"] == INVALID
    assert list(refused.json()["errors"][0]["parameters"]) == [parameter]


def test_media_belongs_to_its_uploader_and_needs_media_write(x_sim: XControl) -> None:
    ada, bob = x_sim.token(ADA), x_sim.token(BOB)
    media_id = one_shot(x_sim, ada).json()["data"]["id"]
    body = {"text": "stolen", "media": {"media_ids": [media_id]}}
    assert x_sim.api("POST", "/2/tweets", bob, json=body).status_code == 400
    status = x_sim.api("GET", f"/2/media/upload?command=STATUS&media_id={media_id}", bob)
    assert status.status_code == 400
    no_scope = x_sim.token(scope="tweet.read tweet.write users.read")
    assert one_shot(x_sim, no_scope).status_code == 403


def test_a_video_goes_alone_and_photos_up_to_four(x_sim: XControl) -> None:
    x_sim.configure(processing_s=0.01)
    token = x_sim.token()
    photos = [one_shot(x_sim, token).json()["data"]["id"] for _ in range(5)]
    video = chunked_video(x_sim, token)
    finalize(x_sim, token, video)
    time.sleep(0.05)
    for ids in (photos, [video, photos[0]]):
        refused = x_sim.api(
            "POST", "/2/tweets", token, json={"text": "t", "media": {"media_ids": ids}}
        )
        assert refused.status_code == 400
    x_sim.tweet(token, "four", media={"media_ids": photos[:4]})
    x_sim.tweet(token, "one video", media={"media_ids": [video]})


def test_upload_faults_refuse_or_act_then_fail(x_sim: XControl) -> None:
    token = x_sim.token()
    init = {"media_type": "video/mp4", "total_bytes": 10, "media_category": "tweet_video"}
    x_sim.script_upload("unavailable", "rate_limit")
    path = "/2/media/upload/initialize"
    assert x_sim.api("POST", path, token, json=init).status_code == 503
    limited = x_sim.api("POST", path, token, json=init)
    assert limited.status_code == 429
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert x_sim.media() == []
    x_sim.configure(media_per_window=None)
    media_id = x_sim.api("POST", path, token, json=init).json()["data"]["id"]
    x_sim.script_upload("error_after_create", "lost_response")
    segment = {"media": base64.b64encode(b"0123456789").decode(), "segment_index": 0}
    append = f"/2/media/upload/{media_id}/append"
    assert x_sim.api("POST", append, token, json=segment).status_code == 500
    assert x_sim.media()[0]["size"] == 10  # stored all the same
    with pytest.raises(httpx.ReadTimeout):
        x_sim.api("POST", f"/2/media/upload/{media_id}/finalize", token, timeout=CLIENT_TIMEOUT_S)
    assert x_sim.media()[0]["finalized"] is True
    assert finalize(x_sim, token, media_id).status_code == 200  # finalize again: the state
    assert x_sim.stats()["upload_faults"] == 4
    bad = x_sim.http.post("/_sim/script", json={"upload": ["rejected"]})
    assert bad.status_code == 422


def test_alt_text_through_media_metadata(x_sim: XControl) -> None:
    ada, bob = x_sim.token(ADA), x_sim.token(BOB)
    media_id = one_shot(x_sim, ada).json()["data"]["id"]
    body = {"id": media_id, "metadata": {"alt_text": {"text": "A cat on a mat"}}}
    answer = x_sim.api("POST", "/2/media/metadata", ada, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "data": {"id": media_id, "associated_metadata": {"alt_text": {"text": "A cat on a mat"}}}
    }
    assert x_sim.media()[0]["alt_text"] == "A cat on a mat"
    assert x_sim.api("POST", "/2/media/metadata", bob, json=body).status_code == 400
    long = {"id": media_id, "metadata": {"alt_text": {"text": "a" * 1001}}}
    assert x_sim.api("POST", "/2/media/metadata", ada, json=long).status_code == 400
    assert x_sim.api("POST", "/2/media/metadata", ada, json={"id": media_id}).status_code == 400
