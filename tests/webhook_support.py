"""A real webhook receiver on loopback: it verifies signatures the way Publora's docs show
(HMAC-SHA256 of the raw body bytes, constant-time compare) and records what it accepted."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    secret: str = ""
    accepted: list[Received] = field(default_factory=list)
    refused: list[Received] = field(default_factory=list)
    # Statuses to answer next, one per request; 200 once it is empty.
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verifies(self, received: Received) -> bool:
        key = self.secret.encode()
        publora = hmac.new(key, received.body, hashlib.sha256).hexdigest()
        stamp = received.headers.get("x-herald-timestamp", "")
        herald = hmac.new(key, stamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(
            publora, received.headers.get("x-publora-signature", "")
        ) and hmac.compare_digest(herald, received.headers.get("x-herald-signature", ""))

    def events(self) -> list[str]:
        with self.lock:
            return [r.headers["x-publora-event"] for r in self.accepted]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received = Received(
                {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
            )
            with receiver.lock:
                status = receiver.script.pop(0) if receiver.script else 200
                if status == 200 and receiver.verifies(received):
                    receiver.accepted.append(received)
                else:
                    status = status if status != 200 else 401
                    receiver.refused.append(received)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver("")))
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook")
    server.RequestHandlerClass = _handler(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
