"""A file's type from its first bytes: what a fetched file is, whatever its server claims."""

from __future__ import annotations

# ISO base media files (MP4, MOV) carry `ftyp` at offset 4 and a brand after it.
_QUICKTIME_BRAND = b"qt  "


def sniff(head: bytes) -> str | None:
    """One of the accepted media types (domain.media_rules), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == _QUICKTIME_BRAND else "video/mp4"
    return None
