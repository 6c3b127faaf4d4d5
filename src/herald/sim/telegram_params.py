"""Bot API request parameters, read the ways Telegram takes them, and its answer envelope.

Telegram reads a method's parameters from the query string and from the body: JSON,
application/x-www-form-urlencoded or multipart/form-data (https://core.telegram.org/bots/api#
making-requests). In the two form encodings every value is a string, and object parameters
(`reply_parameters`, `entities`, `media`, ...) are JSON-serialized; multipart parts with a filename
are uploads. The multipart parser is our own so the simulator needs no extra dependency."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(r';\s*([A-Za-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))')


class BotApiError(Exception):
    """An `{"ok": false, ...}` answer: HTTP status = error_code, as Telegram does."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def response(self) -> Response:
        return api_error(self.status, self.description, self.parameters)


def api_error(status: int, description: str, parameters: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)


def api_ok(result: Any) -> Response:
    return JSONResponse({"ok": True, "result": result})


def bad_request(reason: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {reason}")


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class BotParams:
    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # Telegram coerces JSON numbers where it wants strings
        raise bad_request(f'field "{name}" must be of type String')

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,20}", value):
            return int(value)
        raise bad_request(f'field "{name}" must be of type Integer')

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))

    def json_value(self, name: str, kind: type[Any]) -> Any:
        """An object or array parameter: native in JSON bodies, a JSON string in forms."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        if value is not None and not isinstance(value, kind):
            raise bad_request(f"can't parse {name} JSON object")
        return value


async def read_params(request: Request) -> BotParams:
    params = BotParams(values=dict(request.query_params))
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = await request.body()
    if not body:
        return params
    if media_type == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if not isinstance(decoded, dict):
            raise bad_request("JSON encoded request body must be an object")
        params.values.update(decoded)
    elif media_type == "application/x-www-form-urlencoded":
        params.values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif media_type == "multipart/form-data":
        _read_multipart(params, content_type, body)
    return params


def _read_multipart(params: BotParams, content_type: str, body: bytes) -> None:
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise bad_request("multipart boundary is missing")
    delimiter = b"\r\n--" + (match.group(1) or match.group(2)).encode()
    # The first delimiter may open the body without a preceding CRLF.
    chunks = (b"\r\n" + body).split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return  # the close delimiter
        head, separator, data = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise bad_request("malformed multipart part")
        headers = _part_headers(head)
        disposition = _disposition(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            part_type = headers.get("content-type", "application/octet-stream")
            params.files[name] = UploadedFile(disposition["filename"], part_type, data)
        else:
            params.values[name] = data.decode("utf-8", "replace")
    raise bad_request("multipart body has no close delimiter")


def _part_headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def _disposition(value: str) -> dict[str, str]:
    kind, _, _ = value.partition(";")
    if kind.strip().lower() != "form-data":
        return {}
    params = {}
    for match in _DISPOSITION_PARAM.finditer(value):
        quoted, bare = match.group(2), match.group(3)
        params[match.group(1).lower()] = (
            re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        )
    return params
