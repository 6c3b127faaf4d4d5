"""A multipart/form-data body that streams uploads from Herald's media store as it is sent.

The media store gives async chunks, and a file is never read whole (CONVENTIONS: media bytes are
streamed), so the body is written here and sent with chunked transfer encoding."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Upload:
    """One file part: the form field it fills and where its bytes come from."""

    field: str
    filename: str
    content_type: str
    open: Callable[[], AsyncIterator[bytes]]


class MediaReadError(Exception):
    """Reading a file for upload failed part-way: the body never completed, so Telegram
    cannot have acted on the request."""


def form_value(value: Any) -> str:
    """A parameter as the Bot API reads it from a form: objects and arrays as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class MultipartBody:
    def __init__(self, fields: Mapping[str, Any], uploads: Sequence[Upload]) -> None:
        self.fields = {name: form_value(value) for name, value in fields.items()}
        self.uploads = uploads
        self.boundary = f"herald-{secrets.token_hex(16)}"

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self, name: str, upload: Upload | None = None) -> bytes:
        # Field names and file names are Herald's own (chat_id, file0.jpg): no quoting needed.
        disposition = f'form-data; name="{name}"'
        lines = [f"--{self.boundary}"]
        if upload is not None:
            disposition += f'; filename="{upload.filename}"'
            lines += [f"Content-Disposition: {disposition}", f"Content-Type: {upload.content_type}"]
        else:
            lines.append(f"Content-Disposition: {disposition}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def stream(self) -> AsyncIterator[bytes]:
        for name, value in self.fields.items():
            yield self._head(name) + value.encode() + b"\r\n"
        for upload in self.uploads:
            yield self._head(upload.field, upload)
            async for chunk in _chunks(upload):
                yield chunk
            yield b"\r\n"
        yield f"--{self.boundary}--\r\n".encode()


async def _chunks(upload: Upload) -> AsyncIterator[bytes]:
    chunks = upload.open()
    try:
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except Exception as exc:  # the store's failure, whatever it is
                raise MediaReadError(type(exc).__name__) from exc
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
