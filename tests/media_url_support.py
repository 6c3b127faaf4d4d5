"""A loopback HTTP server that serves media files (and failures) for the mediaUrls tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support import png

# A private address the egress policy refuses before any connection (nothing listens there).
PRIVATE_URL = "http://10.213.255.254:8080/private.png"
TOO_BIG = 26 * 1024 * 1024  # over Publora's 25 MB for images


@dataclass
class FileServer:
    base_url: str
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path: (type, body)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(self.path)
            if self.path == "/redirect.png":
                self.send_response(302)
                self.send_header("Location", "/red.png")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/too-big.png":
                self._big()
                return
            found = server.files.get(self.path)
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content_type, body = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _big(self) -> None:
            # Streamed without a length, so only the byte count can stop it.
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            head = png((1, 2, 3), (4, 4))
            try:
                self.wfile.write(head)
                chunk = b"\0" * (1024 * 1024)
                for _ in range(TOO_BIG // len(chunk) + 1):
                    self.wfile.write(chunk)
            except OSError:
                pass  # Herald stopped reading, as it should
            self.close_connection = True

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def file_server() -> Iterator[FileServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    served = FileServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    served.files.update(
        {
            "/red.png": ("image/png", png((255, 0, 0), (8, 8))),
            "/blue.png": ("image/png", png((0, 0, 255), (9, 9))),
            # The server says PNG; the bytes say text: the bytes win.
            "/notes.png": ("image/png", b"just some text, not an image at all\n" * 4),
        }
    )
    httpd.RequestHandlerClass = _handler(served)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
