"""One Bot API method call: `POST {apiUrl}/bot{token}/{method}`, JSON or multipart.

Telegram answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description",
"parameters"?: {"retry_after", "migrate_to_chat_id"}}` with the HTTP status equal to error_code
(https://core.telegram.org/bots/api#making-requests). This module reports what happened without
judging it; errors.py maps it onto the taxonomy, which differs between verifying and sending."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from herald.domain.publishing import bounded_delay
from herald.net.http_client import (
    HttpClient,
    HttpResponse,
)
from herald.platforms._http import redact
from herald.platforms.base import AuthExpiredError, RejectedError
from herald.platforms.telegram.multipart import MultipartBody, Upload

DEFAULT_API_URL = "https://api.telegram.org"
# The shape @BotFather issues; anything else could not be a token, and a "/" or "?" in it would
# change the URL it is put into.
_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")


class RefusalError(Exception):
    """Telegram answered `"ok": false`."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: float | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


class UnreadableAnswerError(Exception):
    """An answer that is not the Bot API's envelope (a proxy's error page, a cut body)."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status = response.status_code
        self.headers = response.headers


@dataclass(frozen=True)
class BotEndpoint:
    api_url: str
    token: str

    @classmethod
    def of(cls, credentials: Mapping[str, Any], options: Mapping[str, Any]) -> BotEndpoint:
        token = credentials.get("botToken")
        if not isinstance(token, str) or not token:
            raise RejectedError("The Telegram connection has no bot token; reconnect it")
        if not _TOKEN.fullmatch(token):
            raise AuthExpiredError(
                "Telegram refused the bot token: it is not of the form 123456:ABC... "
                "that @BotFather issues"
            )
        api_url = options.get("apiUrl") or DEFAULT_API_URL
        if not isinstance(api_url, str) or not api_url.startswith(("http://", "https://")):
            raise RejectedError("The Telegram connection's apiUrl is not an http(s) URL")
        return cls(api_url.rstrip("/"), token)

    def url(self, method: str) -> str:
        return f"{self.api_url}/bot{self.token}/{method}"

    def redact(self, text: str) -> str:
        # Telegram never echoes the token, but a proxy in front of it might.
        return redact(text, self.token)


async def call(
    client: HttpClient,
    endpoint: BotEndpoint,
    method: str,
    fields: Mapping[str, Any],
    uploads: Sequence[Upload] = (),
) -> Any:
    """The method's `result`; raises RefusalError, UnreadableAnswerError, MediaReadError (an upload
    failed to read) or the HTTP client's errors. None of their messages contains the token."""
    if uploads:
        body = MultipartBody(fields, uploads)
        headers = {"Content-Type": body.content_type}
        response = await client.post(endpoint.url(method), content=body.stream(), headers=headers)
    else:
        response = await client.post(endpoint.url(method), json=dict(fields))
    return _result(response, endpoint)


def _result(response: HttpResponse, endpoint: BotEndpoint) -> Any:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise UnreadableAnswerError(response)
    if answer.get("ok") is True and "result" in answer and response.status_code == 200:
        return answer["result"]
    description = answer.get("description")
    if answer.get("ok") is not False or not isinstance(description, str):
        raise UnreadableAnswerError(response)
    code = answer.get("error_code")
    status = code if _is_integer(code) else response.status_code
    parameters = answer.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    retry_after = parameters.get("retry_after")
    migrate = parameters.get("migrate_to_chat_id")
    raise RefusalError(
        status,
        endpoint.redact(description),
        retry_after=bounded_delay(retry_after) if _is_number(retry_after) else None,
        migrate_to_chat_id=migrate if _is_integer(migrate) else None,
    )


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
