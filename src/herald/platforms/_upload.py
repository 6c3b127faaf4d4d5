"""Reading a stored file in chunks of exact sizes for chunked uploads (YouTube, TikTok)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from herald.platforms.base import RetryableError


class ChunkReader:
    """The file from byte `offset` on, in chunks of an exact size; at most one chunk (plus one
    piece of the store's stream) is held. The store streams from the start, so the bytes
    before `offset` are read and dropped."""

    def __init__(self, open_file: Callable[[], AsyncIterator[bytes]], offset: int) -> None:
        self._source = open_file()
        self._to_skip = offset
        self._carry = b""

    async def read(self, size: int) -> bytes:
        buffer = bytearray(self._carry)
        self._carry = b""
        while len(buffer) < size:
            try:
                piece = await anext(self._source)
            except StopAsyncIteration:
                raise RetryableError("The video file ended early in Herald's media store") from None
            if self._to_skip:
                dropped = min(self._to_skip, len(piece))
                self._to_skip -= dropped
                piece = piece[dropped:]
            buffer += piece
        self._carry = bytes(buffer[size:])
        del buffer[size:]
        return bytes(buffer)

    async def aclose(self) -> None:
        close = getattr(self._source, "aclose", None)
        if close is not None:
            await close()
