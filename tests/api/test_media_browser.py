"""Uploaded files opened in a real Chromium: no script in them ever runs on Herald's origin.

Each payload sets `document.title` when its script runs. A control page served as HTML by a
plain server shows that the browser here does run such scripts, so a title left alone means
Herald's answer stopped it, not the harness."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from browser_support import Chromium
from herald.media.local import LocalMediaStore
from media_support import plant_legacy_file
from support import LiveServer, Tenant, create_post

RAN = "script ran"
HTML = f"<!doctype html><title>inert</title><script>document.title='{RAN}'</script>".encode()
SVG = (
    f'<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'{RAN}\'">'
    f"<script>document.title='{RAN}'</script></svg>"
).encode()


@dataclass(frozen=True)
class Visit:
    title: str
    downloaded: bool  # the browser saved the file instead of showing it


def visit(chromium: Chromium, url: str) -> Visit:
    async def scenario(page: Page) -> Visit:
        try:
            await page.goto(url)
        except PlaywrightError as exc:
            if "Download is starting" not in exc.message:
                raise
            return Visit(await page.title(), downloaded=True)
        return Visit(await page.title(), downloaded=False)

    return chromium.run(scenario)


@pytest.fixture(scope="module")
def plain_server() -> Iterator[str]:
    """Serves `/<content type>` with the HTML or SVG payload and no protective header."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content_type = self.path.lstrip("/").replace("%20", " ")
            body = SVG if "svg" in content_type else HTML
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test output is no place for access lines."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    "content_type", ["text/html", "image/svg+xml", "image/png; x=1, text/html"]
)
def test_the_browser_runs_the_payloads_when_nothing_stops_it(
    chromium: Chromium, plain_server: str, content_type: str
) -> None:
    assert visit(chromium, f"{plain_server}/{content_type}").title == RAN


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("image/png; x=1, text/html", HTML),  # what the review ran on Herald's origin
        ("image/png;charset=utf-8", HTML),
        ("text/html, image/png", HTML),
        ("image/png", HTML),
        ("image/png", SVG),
        ("image/gif", SVG),
        ("video/mp4", HTML),
    ],
    ids=["list", "parameter", "html-first", "html-as-png", "svg-as-png", "svg-as-gif", "mp4"],
)
def test_no_uploaded_file_runs_a_script(
    chromium: Chromium, tenant: Tenant, content_type: str, payload: bytes
) -> None:
    """Either get-upload-url refuses the type, or the file is served so that nothing runs."""
    group_id = create_post(tenant, status="draft")
    body = {"postGroupId": group_id, "fileName": "page.png", "contentType": content_type}
    issued = tenant.client.post("/get-upload-url", json=body)
    if issued.status_code == 400:
        assert issued.json()["code"] == "INVALID_CONTENT_TYPE"
        return
    assert issued.status_code == 200, issued.text
    put = httpx.put(
        issued.json()["uploadUrl"], content=payload, headers={"Content-Type": content_type}
    )
    assert put.status_code == 200, put.text
    assert visit(chromium, issued.json()["fileUrl"]).title != RAN


@pytest.mark.parametrize(
    ("stored_type", "payload"),
    [
        ("text/html", HTML),
        ("image/png; x=1, text/html", HTML),
        ("image/svg+xml", SVG),
        ("application/xhtml+xml", HTML),
    ],
    ids=["html", "list", "svg", "xhtml"],
)
def test_a_file_kept_from_an_older_version_with_a_hostile_type_is_inert(
    chromium: Chromium, server: LiveServer, stored_type: str, payload: bytes
) -> None:
    """Files uploaded before types were an allowlist keep whatever type the client named:
    they are downloaded, never shown."""
    store = server.context.media_store
    assert isinstance(store, LocalMediaStore)
    key = plant_legacy_file(store, "page.html", stored_type, payload)
    url = f"{server.settings.resolved_public_url}/media/files/{key}"
    assert httpx.get(url).status_code == 200
    seen = visit(chromium, url)
    assert (seen.title, seen.downloaded) == ("", True)
