"""A streaming multipart/form-data reader (RFC 7578) for the simulator's media uploads.

Fed chunk by chunk, it hands each part's bytes to a sink as they arrive, so an upload of any
size passes through in bounded memory: only a delimiter's length of bytes is held back, in
case a delimiter straddles two chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from typing import Protocol

MAX_HEADER_BYTES = 16 * 1024


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass(frozen=True)
class PartHeader:
    name: str
    filename: str | None
    content_type: str | None


class PartSink(Protocol):
    def start(self, part: PartHeader) -> None: ...

    def data(self, chunk: bytes) -> None: ...

    def end(self) -> None: ...


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a `multipart/form-data` Content-Type, or None for any other type."""
    header = _header("content-type", content_type)
    boundary = header.get_param("boundary", header="content-type")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        return None
    if not 1 <= len(boundary) <= 70 or not boundary.isascii():  # RFC 2046 §5.1.1
        return None
    return boundary.encode()


class MultipartReader:
    def __init__(self, boundary: bytes, sink: PartSink) -> None:
        self._delimiter = b"--" + boundary
        self._separator = b"\r\n" + self._delimiter  # what ends a part's body
        self._sink = sink
        self._buffer = bytearray()
        self._state = "preamble"

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        while self._state != "done" and self._step():
            pass
        if self._state == "done":
            self._buffer.clear()  # the epilogue means nothing

    def close(self) -> None:
        if self._state != "done":
            raise MultipartError("the body ended before the closing boundary")

    def _step(self) -> bool:
        """Advance once; False when more bytes are needed."""
        if self._state == "preamble":
            return self._preamble()
        if self._state == "headers":
            return self._headers()
        return self._body()

    def _preamble(self) -> bool:
        found = self._buffer.find(self._delimiter)
        if found < 0:
            del self._buffer[: max(0, len(self._buffer) - len(self._delimiter))]
            return False
        return self._after_delimiter(found + len(self._delimiter))

    def _after_delimiter(self, position: int) -> bool:
        tail = bytes(self._buffer[position : position + 2])
        if len(tail) < 2:
            return False
        if tail == b"--":
            self._state = "done"
        elif tail == b"\r\n":
            self._state = "headers"
        else:
            raise MultipartError("a boundary must be followed by CRLF or --")
        del self._buffer[: position + 2]
        return True

    def _headers(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise MultipartError("part headers are too long")
            return False
        if end > MAX_HEADER_BYTES:
            raise MultipartError("part headers are too long")
        part = _part_header(bytes(self._buffer[:end]))
        del self._buffer[: end + 4]
        self._sink.start(part)
        self._state = "body"
        return True

    def _body(self) -> bool:
        found = self._buffer.find(self._separator)
        if found < 0:
            # Keep back what could be the start of a separator cut by the chunk's end.
            safe = len(self._buffer) - len(self._separator) + 1
            if safe > 0:
                self._sink.data(bytes(self._buffer[:safe]))
                del self._buffer[:safe]
            return False
        if found:
            self._sink.data(bytes(self._buffer[:found]))
            del self._buffer[:found]
        if len(self._buffer) < len(self._separator) + 2:
            return False
        self._sink.end()
        return self._after_delimiter(len(self._separator))


def _header(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message


def _part_header(raw: bytes) -> PartHeader:
    fields: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon:
            raise MultipartError(f"malformed part header {line[:40]!r}")
        fields[name.strip().lower()] = value.strip()
    disposition = _header("content-disposition", fields.get("content-disposition", ""))
    if disposition.get_content_disposition() != "form-data":
        raise MultipartError("each part needs Content-Disposition: form-data")
    part_name = disposition.get_param("name", header="content-disposition")
    if not isinstance(part_name, str) or not part_name:
        raise MultipartError("each part needs a name")
    return PartHeader(part_name, disposition.get_filename(), fields.get("content-type"))
