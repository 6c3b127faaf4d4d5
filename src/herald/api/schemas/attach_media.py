"""attach-media's body (publora-latest §2.6), parsed with Publora's INVALID_MEDIA_FILE messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from herald.api.schemas.base import WireModel
from herald.errors import ValidationError
from herald.services.media_urls import UrlFailed, check_url

FILE_KEYS = frozenset({"download_url", "file_id", "mime_type", "file_name"})
FILE_ID_MAX, FILE_NAME_MAX = 512, 255
DEFAULT_NAME = "chatgpt-media"  # Publora's name when none is given
_WHITESPACE = re.compile(r"\s+")
_NOT_KEPT = re.compile(r"[^A-Za-z0-9_.-]")


class AttachedFile(WireModel):
    download_url: str = Field(alias="download_url", description="http(s); fetched at once")
    file_id: str = Field(alias="file_id", min_length=1, max_length=FILE_ID_MAX)
    mime_type: str | None = Field(default=None, alias="mime_type", description="A hint only")
    file_name: str | None = Field(default=None, alias="file_name")


class AttachMediaRequest(WireModel):
    file: AttachedFile
    file_name: str | None = Field(default=None, min_length=1, max_length=FILE_NAME_MAX)


@dataclass(frozen=True)
class Attachment:
    download_url: str
    file_id: str
    file_name: str  # cleaned


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, code="INVALID_MEDIA_FILE")


def clean_file_name(name: str) -> str:
    """Last path segment, trimmed, whitespace runs to `_`, only [A-Za-z0-9_.-] kept."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return _NOT_KEPT.sub("", _WHITESPACE.sub("_", last))


def _file(body: Mapping[str, Any]) -> Mapping[str, Any]:
    if set(body) - {"file", "fileName"}:
        raise _invalid(
            "Only file and fileName are accepted; attaching media leaves the post in draft"
        )
    file = body.get("file")
    if not isinstance(file, Mapping):
        raise _invalid(
            "file must be a file object with download_url and file_id, not a local path or "
            "base64 string"
        )
    if set(file) - FILE_KEYS:
        raise _invalid("file only accepts download_url, file_id, mime_type and file_name")
    for optional in ("mime_type", "file_name"):
        if file.get(optional) is not None and not isinstance(file.get(optional), str):
            raise _invalid(f"file.{optional} must be a string")
    return file


def _name(body: Mapping[str, Any], file: Mapping[str, Any]) -> str:
    name = body.get("fileName")
    if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= FILE_NAME_MAX):
        raise _invalid(f"fileName must be a non-empty string of at most {FILE_NAME_MAX} characters")
    chosen = name if name is not None else file.get("file_name") or DEFAULT_NAME
    cleaned = clean_file_name(chosen)
    if not cleaned.strip("."):
        raise _invalid("fileName must contain a valid file name")
    return cleaned


def parse_attach_media(body: Mapping[str, Any]) -> Attachment:
    file = _file(body)
    url, file_id = file.get("download_url"), file.get("file_id")
    if not isinstance(url, str) or not url.strip():
        raise _invalid("file.download_url must be a non-empty string")
    if not isinstance(file_id, str) or not 1 <= len(file_id) <= FILE_ID_MAX:
        raise _invalid(
            f"file.file_id must be a non-empty string of at most {FILE_ID_MAX} characters"
        )
    cleaned = _name(body, file)
    try:
        check_url(url.strip())  # publora-latest §2.6: static URL checks refuse the body
    except UrlFailed as failure:
        raise _invalid(failure.message) from None
    return Attachment(url.strip(), file_id, cleaned)
