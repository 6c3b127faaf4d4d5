"""Media over HTTP with the local backend: get-upload-url, the signed PUT, files, rules, delete."""

from __future__ import annotations

import io
import json
import re
import secrets
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from PIL import Image

from herald.media.local import LocalMediaStore
from media_support import plant_legacy_file
from support import (
    LiveServer,
    Tenant,
    add_raw_connection,
    create_post,
    error_body,
    force_target_states,
)


def png(width: int = 8, height: int = 6) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def media_rows(server: LiveServer, group_id: str) -> int:
    from sqlalchemy import func, select

    from herald.models import Media

    async def count(session: Any) -> int:
        query = select(func.count()).select_from(Media).where(Media.post_group_id == group_id)
        return int(await session.scalar(query))

    return server.transaction(count)


def upload_url(tenant: Tenant, group_id: str, **fields: Any) -> httpx.Response:
    body = {"postGroupId": group_id, "fileName": "photo.png", "contentType": "image/png", **fields}
    # json.dumps escapes non-ASCII, so a lone surrogate can be sent as JSON writes it: "\ud800".
    headers = {"Content-Type": "application/json"}
    return tenant.client.post("/get-upload-url", content=json.dumps(body), headers=headers)


def ticket(tenant: Tenant, group_id: str, **fields: Any) -> dict[str, Any]:
    response = upload_url(tenant, group_id, **fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def put(url: str, data: bytes, content_type: str = "image/png") -> httpx.Response:
    return httpx.put(url, content=data, headers={"Content-Type": content_type}, timeout=30)


def test_the_documented_flow(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id)
    assert set(issued) == {"success", "uploadUrl", "fileUrl", "mediaId", "expiresAt"}
    assert tenant.client.get(f"/get-post/{group_id}").json()["mediaUrls"] == []
    data = png()
    uploaded = put(issued["uploadUrl"], data)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json() == {"success": True, "mediaId": issued["mediaId"], "size": len(data)}
    served = httpx.get(issued["fileUrl"])
    assert (served.status_code, served.content) == (200, data)
    assert served.headers["content-type"] == "image/png"
    partial = httpx.get(issued["fileUrl"], headers={"Range": "bytes=0-9"})
    assert (partial.status_code, partial.content) == (206, data[:10])
    assert tenant.client.get(f"/get-post/{group_id}").json()["mediaUrls"] == [issued["fileUrl"]]
    listed = tenant.client.get("/list-posts").json()["posts"][0]
    assert listed["mediaUrls"] == [issued["fileUrl"]]


def test_type_is_derived_and_checked(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    assert (
        upload_url(tenant, group_id, contentType="video/mp4", fileName="v.mp4").status_code == 200
    )
    bad = upload_url(tenant, group_id, type="video")
    assert bad.json() == error_body("Invalid type", "INVALID_TYPE")
    assert upload_url(tenant, group_id, type="sound").json()["error"] == "Invalid type"


@pytest.mark.parametrize(
    ("fields", "message", "code"),
    [
        ({"fileName": None}, "fileName is required", "FIELD_REQUIRED"),
        ({"contentType": ""}, "contentType is required", "FIELD_REQUIRED"),
        ({"postGroupId": None}, "postGroupId is required", "FIELD_REQUIRED"),
        ({"contentType": "application/pdf"}, "Invalid content type", "INVALID_CONTENT_TYPE"),
        ({"contentType": "image/svg+xml"}, "Invalid content type", "INVALID_CONTENT_TYPE"),
    ],
)
def test_bad_requests(tenant: Tenant, fields: dict[str, Any], message: str, code: str) -> None:
    group_id = create_post(tenant, status="draft")
    response = upload_url(tenant, group_id, **fields)
    assert response.status_code == 400
    assert response.json() == error_body(message, code)


@pytest.mark.parametrize(
    "content_type",
    [
        "image/png; x=1, text/html",
        "image/png;charset=binary",
        "image/png, text/html",
        "text/html, image/png",
        "image/png image/gif",
        "image/*",
        "image/p\x01ng",
        "image/svg+xml",
        "text/html",
    ],
)
def test_content_types_are_an_allowlist_of_bare_types(
    server: LiveServer, tenant: Tenant, content_type: str
) -> None:
    group_id = create_post(tenant, status="draft")
    response = upload_url(tenant, group_id, contentType=content_type)
    assert response.status_code == 400
    assert response.json() == error_body("Invalid content type", "INVALID_CONTENT_TYPE")
    assert media_rows(server, group_id) == 0


def test_content_types_match_whatever_their_case(tenant: Tenant) -> None:
    """The client PUTs with the type it asked for (spec §2.7); the file is served lowercase."""
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id, contentType="Image/PNG")
    assert put(issued["uploadUrl"], png(), content_type="Image/PNG").status_code == 200
    assert httpx.get(issued["fileUrl"]).headers["content-type"] == "image/png"


SANDBOXED = "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    ("content_type", "name"), [("image/png", "photo.png"), ("video/mp4", "clip.mp4")]
)
def test_served_media_are_never_sniffed_nor_scripted(
    tenant: Tenant, content_type: str, name: str
) -> None:
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id, contentType=content_type, fileName=name)
    put(issued["uploadUrl"], png(), content_type=content_type)
    served = httpx.get(issued["fileUrl"])
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == SANDBOXED
    assert "content-disposition" not in served.headers  # shown inline: it is an image or video


@pytest.mark.parametrize(
    "stored_type", ["text/html", "image/png; x=1, text/html", "image/svg+xml", "IMAGE/PNG, x/y"]
)
def test_files_of_other_types_are_downloads(server: LiveServer, stored_type: str) -> None:
    """Only files kept from before the allowlist can have another type."""
    store = server.context.media_store
    assert isinstance(store, LocalMediaStore)
    key = plant_legacy_file(store, "page.html", stored_type, b"<script>alert(1)</script>")
    served = httpx.get(f"{server.settings.resolved_public_url}/media/files/{key}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"] == 'attachment; filename="page.html"'
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == SANDBOXED


_FILE_URL = re.compile(r"/media/files/([0-9a-f]{24})/([0-9a-f]{24})/([0-9a-f]{32})/photo\.png")


def test_file_urls_are_capabilities(tenant: Tenant) -> None:
    """Platforms fetch file URLs without a key, so the URL itself must be unguessable: 128
    random bits in the path, beside the two ids."""
    group_id = create_post(tenant, status="draft")
    issued = [ticket(tenant, group_id) for _ in range(2)]
    for each in issued:
        assert put(each["uploadUrl"], png()).status_code == 200
    matches = [_FILE_URL.fullmatch(urlsplit(each["fileUrl"]).path) for each in issued]
    assert all(matches), [each["fileUrl"] for each in issued]
    (group, media, token), (_, other_media, other_token) = (m.groups() for m in matches if m)
    assert (group, media) == (group_id, issued[0]["mediaId"])
    assert len({token, other_token}) == 2
    base = issued[0]["fileUrl"].split("/media/files/", 1)[0] + "/media/files"
    guesses = [
        f"{base}/{group}/{media}/photo.png",  # the layout before tokens
        f"{base}/{group}/{media}/{other_token}/photo.png",  # the neighbour's token
        f"{base}/{group}/{media}/{secrets.token_hex(16)}/photo.png",
        f"{base}/{group}/{other_media}/{token}/photo.png",
    ]
    for guess in guesses:
        assert httpx.get(guess).status_code == 404, guess
    assert httpx.get(issued[0]["fileUrl"]).status_code == 200


BAD_NAME = error_body(
    "fileName must be text without path separators or control characters", "INVALID_FILE_NAME"
)
TOO_LONG = {
    **error_body("fileName is longer than 255 bytes (UTF-8)", "FILE_NAME_TOO_LONG"),
    "limit": 255,
}


@pytest.mark.parametrize(
    ("file_name", "error"),
    [
        ("photos/a.png", BAD_NAME),
        ("C:\\a.png", BAD_NAME),
        ("a\n.png", BAD_NAME),
        ("a\x7f.png", BAD_NAME),
        ("a\x85.png", BAD_NAME),
        ("a" * 252 + ".png", TOO_LONG),
        ("é" * 126 + ".png", TOO_LONG),
    ],
    # NUL and lone surrogates never get this far: the body parser refuses them (test_bad_input).
    ids=["slash", "backslash", "newline", "del", "c1", "long", "long-utf8"],
)
def test_bad_file_names_are_400(
    server: LiveServer, tenant: Tenant, file_name: str, error: dict[str, Any]
) -> None:
    group_id = create_post(tenant, status="draft")
    response = upload_url(tenant, group_id, fileName=file_name)
    assert response.status_code == 400
    assert response.json() == error
    assert media_rows(server, group_id) == 0


@pytest.mark.parametrize(
    "file_name", ["x.png.meta.json", "a" * 251 + ".png", "é" * 125 + ".png", "..png", "~.png"]
)
def test_any_other_file_name_is_kept_and_served(tenant: Tenant, file_name: str) -> None:
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id, fileName=file_name)
    data = png()
    assert put(issued["uploadUrl"], data).status_code == 200
    assert httpx.get(issued["fileUrl"]).content == data


def test_unknown_or_foreign_groups_are_404(tenant: Tenant, new_tenant: Any) -> None:
    other = new_tenant("Other")
    for group_id in ("507f1f77bcf86cd799439011", create_post(other, status="draft")):
        response = upload_url(tenant, group_id)
        assert response.status_code == 404
        assert response.json()["error"] == "Post group not found"


@pytest.mark.parametrize(
    ("state", "sent", "message"),
    [
        ("published", True, "Cannot upload media to published or failed posts"),
        ("publishing", True, "Cannot upload media: post is currently in processing status"),
    ],
)
def test_groups_being_sent_or_done_take_no_media(
    server: LiveServer, tenant: Tenant, state: str, sent: bool, message: str
) -> None:
    group_id = create_post(tenant, status="draft")
    force_target_states(server, group_id, [state], sent=sent)
    response = upload_url(tenant, group_id)
    assert response.status_code == 400
    assert response.json()["error"] == message


def test_a_fifth_image_is_refused_naming_the_platform(server: LiveServer, tenant: Tenant) -> None:
    bluesky = add_raw_connection(server, tenant.account_id, "bluesky", "did:plc:abc123")
    mastodon = add_raw_connection(server, tenant.account_id, "mastodon", "109876543210")
    group_id = create_post(tenant, platforms=[bluesky, mastodon], status="draft")
    for index in range(4):
        ticket(tenant, group_id, fileName=f"p{index}.png")
    fifth = upload_url(tenant, group_id, fileName="p4.png")
    assert fifth.status_code == 400
    assert fifth.json() == error_body(
        "bluesky accepts at most 4 images per post", "MEDIA_NOT_ACCEPTED"
    )


def test_images_and_video_never_mix_where_forbidden(server: LiveServer, tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    ticket(tenant, group_id)
    video = upload_url(tenant, group_id, contentType="video/mp4", fileName="v.mp4")
    assert video.json()["error"] == "sandbox does not accept images and a video in the same post"


def test_video_only_platforms_refuse_images(server: LiveServer, tenant: Tenant) -> None:
    youtube = add_raw_connection(server, tenant.account_id, "youtube", "UC123456789")
    youtube_group = create_post(tenant, platforms=[youtube], status="draft")
    image = upload_url(tenant, youtube_group)
    assert image.json()["error"] == "youtube does not accept images; it needs a video"
    tiktok = add_raw_connection(server, tenant.account_id, "tiktok", "7123456789")
    group_id = create_post(tenant, platforms=[tiktok], status="draft")
    mov = upload_url(tenant, group_id, contentType="video/quicktime", fileName="v.mov")
    assert mov.json()["error"] == "tiktok accepts video as video/mp4, not video/quicktime"
    assert (
        upload_url(tenant, group_id, contentType="video/mp4", fileName="v.mp4").status_code == 200
    )


def test_telegram_captions_are_checked_when_media_is_attached(
    server: LiveServer, tenant: Tenant
) -> None:
    """With media the text becomes a caption: 1,024 UTF-16 units on Telegram, not 4,096."""
    telegram = add_raw_connection(server, tenant.account_id, "telegram", "-1001000000001")
    # "**" is formatting, not text: 1,024 characters once it becomes an entity.
    fits = create_post(tenant, platforms=[telegram], content="**" + "a" * 1024 + "**")
    assert upload_url(tenant, fits).status_code == 200

    long_text = "😀" * 600  # 600 characters, 1,200 UTF-16 units
    too_long = create_post(tenant, platforms=[telegram], content=long_text)
    refused = upload_url(tenant, too_long)
    assert refused.status_code == 400
    message = (
        "A caption (text with media) on Telegram holds at most 1,024 characters (UTF-16 code "
        "units, after formatting); this one has 1,200. Shorten the text to attach media, or "
        "post it without media"
    )
    assert refused.json() == {
        **error_body(message, "CAPTION_TOO_LONG"),
        "platform": "telegram",
        "limit": 1024,
    }
    assert media_rows(server, too_long) == 0  # nothing was attached

    # With parseMode the text is the owner's markup, and Telegram judges its length.
    raw = create_post(
        tenant,
        platforms=[telegram],
        content=long_text,
        platformSettings={"telegram": {"parseMode": "HTML"}},
    )
    assert upload_url(tenant, raw).status_code == 200


def _tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_tampered_expired_and_mismatched_uploads_are_403(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    url = ticket(tenant, group_id)["uploadUrl"]
    for bad in (
        _tamper(url, signature="0" * 64),
        _tamper(url, contentType="image/gif"),
        _tamper(url, expires=str(int(time.time()) + 7200)),
        url.replace("/photo.png", "/other.png"),
    ):
        response = put(bad, png(), content_type=dict(parse_qsl(urlsplit(bad).query))["contentType"])
        assert response.status_code == 403, bad
        assert response.json() == error_body("Invalid upload signature", "UPLOAD_REFUSED")
    mismatch = put(url, png(), content_type="image/jpeg")
    assert mismatch.status_code == 403
    assert mismatch.json() == error_body(
        "Content-Type does not match the upload URL", "UPLOAD_REFUSED"
    )
    assert put(url, png()).status_code == 200  # the genuine URL still works


def test_an_expired_upload_url_is_403(server: LiveServer, tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    key = f"{group_id}/{'a' * 24}/late.png"
    soon = datetime.now(UTC) + timedelta(seconds=1)
    issued = server.run(server.context.media_store.presign_upload(key, "image/png", soon))
    time.sleep(1.5)
    response = put(issued.upload_url, png())
    assert response.status_code == 403
    assert response.json() == error_body("Upload URL expired", "UPLOAD_REFUSED")


def test_a_declared_size_over_the_limit_is_413_before_any_byte_is_read(
    server: LiveServer, tenant: Tenant
) -> None:
    group_id = create_post(tenant, status="draft")
    url = urlsplit(ticket(tenant, group_id)["uploadUrl"])
    head = (
        f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Type: image/png\r\nContent-Length: {600 * 2**20}\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = _read_response(sock)
    assert answer.startswith("HTTP/1.1 413")
    assert '"error":"Files are limited to 512 MB"' in answer


def test_a_streamed_upload_over_the_limit_is_413_and_leaves_nothing(
    server: LiveServer, tenant: Tenant
) -> None:
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id)
    context = server.context
    original = context.settings
    context.settings = original.model_copy(update={"media_max_upload_bytes": 2 * 2**20})
    try:

        def chunks() -> Iterator[bytes]:
            for _ in range(64):  # 4 MiB, no Content-Length: only counting can catch it
                yield b"x" * 65536

        response = httpx.put(
            issued["uploadUrl"], content=chunks(), headers={"Content-Type": "image/png"}
        )
    finally:
        context.settings = original
    assert response.status_code == 413
    assert response.json()["error"] == "Files are limited to 2 MB"
    assert httpx.get(issued["fileUrl"]).status_code == 404
    assert put(issued["uploadUrl"], png()).status_code == 200  # the URL is still good


def test_delete_removes_the_rows_and_the_files(server: LiveServer, tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    issued = ticket(tenant, group_id)
    put(issued["uploadUrl"], png())
    assert httpx.get(issued["fileUrl"]).status_code == 200
    assert tenant.client.delete(f"/delete-post/{group_id}").json() == {"success": True}
    assert httpx.get(issued["fileUrl"]).status_code == 404
    again = put(issued["uploadUrl"], png())
    assert again.status_code == 404


def _read_response(sock: socket.socket) -> str:
    """Headers and the whole body: they may arrive in separate segments."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":", 1)[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
    )
    while len(body) < length:
        body += sock.recv(65536)
    return (head + b"\r\n\r\n" + body).decode()
