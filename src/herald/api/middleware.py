"""ASGI middleware: a JSON 500 for anything unexpected, the JSON body cap, rate-limit headers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.errors import AppError, PayloadTooLargeError

logger = logging.getLogger("herald.api")

INTERNAL_ERROR = AppError("Internal server error", code="INTERNAL_ERROR")
INTERNAL_ERROR.status_code = 500


async def send_json(
    send: Send, status: int, body: object, headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


class CatchAllMiddleware:
    """Outermost: an unexpected exception becomes a JSON 500 without internals, and is logged
    as one line (its type only: messages can carry secrets or user data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            logger.error(
                "request.failed method=%s path=%s error=%s",
                scope.get("method"),
                logged_path(scope),
                type(exc).__name__,
            )
            if not started:
                await send_json(send, 500, INTERNAL_ERROR.body())


class BodySizeLimitMiddleware:
    """Caps request bodies (1 MB for JSON) whether or not Content-Length is sent; `exempt`
    names the paths that stream large bodies themselves, such as media uploads."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        exempt: Callable[[str], bool],
        larger: Callable[[str], int | None] = lambda path: None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt
        self.larger = larger  # a path's own, larger cap (image uploads in a form), if any

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        limit = self.larger(scope["path"]) or self.max_bytes
        too_large = PayloadTooLargeError("Request body too large")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, too_large.body())
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
            return message

        await self.app(scope, counting_receive, send)


class RateLimitHeadersMiddleware:
    """Adds X-RateLimit-* to every response of an authenticated request, errors included."""

    def __init__(self, app: ASGIApp, state_key: str) -> None:
        self.app = app
        self.state_key = state_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            decision = scope.get("state", {}).get(self.state_key)
            if message["type"] == "http.response.start" and decision is not None:
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


MAX_LOGGED_PATH = 200


def logged_path(scope: Scope) -> str:
    """The request path for a log line as the client sent it, still percent-encoded, so that a
    %0A in it cannot start a forged line, and cut to MAX_LOGGED_PATH characters."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope.get("path", ""))
    path = path.encode("unicode_escape").decode("ascii")  # control characters, if any, escaped
    return path if len(path) <= MAX_LOGGED_PATH else path[: MAX_LOGGED_PATH - 1] + "…"
