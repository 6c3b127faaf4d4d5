"""Google's own client against the YouTube simulator: google-api-python-client built from the
YouTube discovery document it ships, MediaFileUpload(resumable=True) for videos.insert, and
google-auth's refresh, so the simulator's protocol is Google's and not only Herald's idea."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import google.oauth2.credentials
import google_auth_httplib2
import httplib2
import pytest
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from youtube_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    KIB,
    PLAYLIST_ID,
    YouTubeControl,
    video_bytes,
    youtube_sim,
    youtube_sim_url,
)

__all__ = ["youtube_sim", "youtube_sim_url"]
CHUNK = 256 * KIB


OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    """httplib2 keeps its connections open until told: close them after each test."""
    yield
    while OPEN:
        OPEN.pop().close()


def client(base_url: str, credentials: google.oauth2.credentials.Credentials) -> Any:
    """The client built from the package's own youtube.v3 document, its rootUrl pointed at the
    simulator. (client_options' api_endpoint would keep https for media uploads: the library
    swaps only the host of their URL.)"""
    document = json.loads(get_static_doc("youtube", "v3") or "{}")
    assert document["rootUrl"] == "https://youtube.googleapis.com/"
    document["rootUrl"] = base_url + "/"
    plain = httplib2.Http(timeout=2)
    # What googleapiclient.http.build_http does, with a shorter timeout: 308 is Resume
    # Incomplete to an upload, never a redirect to follow.
    plain.redirect_codes = plain.redirect_codes - {308}
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=plain)
    OPEN.append(http)
    return build_from_document(document, http=http)


def token_credentials(youtube_sim: YouTubeControl) -> google.oauth2.credentials.Credentials:
    answer = youtube_sim.mint()
    return google.oauth2.credentials.Credentials(
        token=answer["access_token"],
        refresh_token=answer["refresh_token"],
        token_uri=youtube_sim.base_url + "/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


def insert(youtube: Any, path: Path, **snippet: Any) -> Any:
    body = {
        "snippet": {"title": "Conformance", "description": "d", "categoryId": "22", **snippet},
        "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False},
    }
    media = MediaFileUpload(str(path), mimetype="video/mp4", chunksize=CHUNK, resumable=True)
    return youtube.videos().insert(part="snippet,status", body=body, media_body=media)


def test_a_chunked_resumable_upload_makes_one_video_with_the_bytes_sent(
    youtube_sim: YouTubeControl, tmp_path: Path
) -> None:
    data = video_bytes(3 * CHUNK + 1000)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    youtube = client(youtube_sim.base_url, token_credentials(youtube_sim))
    request = insert(youtube, path)
    progress, answer = [], None
    while answer is None:
        status, answer = request.next_chunk()
        if status is not None:
            progress.append(status.resumable_progress)
    assert progress == [CHUNK, 2 * CHUNK, 3 * CHUNK]  # read from each 308's Range header
    assert answer["kind"] == "youtube#video"
    assert answer["snippet"]["title"] == "Conformance"
    assert answer["status"]["privacyStatus"] == "unlisted"
    [video] = youtube_sim.videos()
    assert video["id"] == answer["id"]
    assert video["sha256"] == hashlib.sha256(data).hexdigest()
    listed = youtube.videos().list(part="status,processingDetails", id=answer["id"]).execute()
    assert listed["items"][0]["status"]["uploadStatus"] == "processed"


def test_a_lost_chunk_answer_is_resumed_by_googles_client_from_the_status_query(
    youtube_sim: YouTubeControl, tmp_path: Path
) -> None:
    data = video_bytes(2 * CHUNK + 10, seed=3)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    youtube = client(youtube_sim.base_url, token_credentials(youtube_sim))
    youtube_sim.script_upload("ok", "lost_response")  # the second chunk lands, its answer not
    request = insert(youtube, path)
    assert request.next_chunk()[0].resumable_progress == CHUNK
    with pytest.raises(TimeoutError):
        request.next_chunk()
    answer = None
    while answer is None:  # the client asks `bytes */N` first, then sends the rest
        answer = request.next_chunk()[1]
    stats = youtube_sim.stats()
    assert stats["status_queries"] == 1
    assert stats["bytes_received"] == len(data)  # the lost chunk was not sent twice
    [video] = youtube_sim.videos()
    assert video["sha256"] == hashlib.sha256(data).hexdigest()


def test_quota_exceeded_is_googles_error_with_its_reason(
    youtube_sim: YouTubeControl, tmp_path: Path
) -> None:
    youtube_sim.configure(daily_uploads=0)
    path = tmp_path / "clip.mp4"
    path.write_bytes(video_bytes(CHUNK))
    youtube = client(youtube_sim.base_url, token_credentials(youtube_sim))
    with pytest.raises(HttpError) as refused:
        insert(youtube, path).execute()
    assert refused.value.status_code == 403
    assert refused.value.error_details[0]["reason"] == "quotaExceeded"
    assert refused.value.error_details[0]["domain"] == "youtube.quota"
    assert youtube_sim.sessions() == []


def test_playlist_item_and_thumbnail_through_googles_client(
    youtube_sim: YouTubeControl, tmp_path: Path
) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(video_bytes(CHUNK // 2))
    youtube = client(youtube_sim.base_url, token_credentials(youtube_sim))
    video = insert(youtube, path).execute()
    item = (
        youtube.playlistItems()
        .insert(
            part="snippet",
            body={
                "snippet": {
                    "playlistId": PLAYLIST_ID,
                    "resourceId": {"kind": "youtube#video", "videoId": video["id"]},
                }
            },
        )
        .execute()
    )
    assert item["snippet"]["resourceId"]["videoId"] == video["id"]
    thumb = tmp_path / "thumb.jpg"
    thumb.write_bytes(b"\xff\xd8\xff\xe0" + bytes(5000))
    youtube.thumbnails().set(
        videoId=video["id"], media_body=MediaFileUpload(str(thumb), mimetype="image/jpeg")
    ).execute()
    extras = youtube_sim.extras()
    assert extras["thumbnails"][video["id"]]["size"] == 5004
    with pytest.raises(HttpError) as missing:
        youtube.playlistItems().insert(
            part="snippet",
            body={
                "snippet": {
                    "playlistId": "PLnope",
                    "resourceId": {"kind": "youtube#video", "videoId": video["id"]},
                }
            },
        ).execute()
    assert missing.value.error_details[0]["reason"] == "playlistNotFound"


def test_google_auth_refreshes_an_expired_token_at_the_simulators_endpoint(
    youtube_sim: YouTubeControl,
) -> None:
    credentials = token_credentials(youtube_sim)
    youtube_sim.http.post("/_sim/expire-tokens")
    youtube = client(youtube_sim.base_url, credentials)
    answer = youtube.channels().list(part="snippet", mine=True).execute()
    assert answer["items"][0]["snippet"]["title"]
    assert youtube_sim.stats()["refreshes"] == 1
    assert credentials.refresh_token  # Google's refresh answer carries none: the old one stays
