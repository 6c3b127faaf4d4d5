"""get-upload-url: the request body, parsed with Publora's exact errors, and the response."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from herald.api.schemas.base import WireModel
from herald.domain.media_rules import IMAGE_TYPES, VIDEO_TYPES, accepted_type, kind_of
from herald.errors import ValidationError
from herald.services.media import UploadRequest

# What most file systems allow for one name; the name is kept as given in the media row.
MAX_FILE_NAME_BYTES = 255
# Control characters (C0, DEL, C1) and lone surrogates, which are not text at all.
_NOT_IN_NAMES = frozenset({"Cc", "Cs"})


class UploadUrlRequest(WireModel):
    file_name: str = Field(
        description=f"At most {MAX_FILE_NAME_BYTES} bytes of UTF-8; no '/', '\\' or control "
        "characters"
    )
    content_type: str = Field(
        description=f"Exactly one of {', '.join(sorted(IMAGE_TYPES | VIDEO_TYPES))} (any case, "
        "no parameters)"
    )
    type: Literal["image", "video"] | None = None  # derived from contentType when left out
    post_group_id: str


class UploadUrlResponse(WireModel):
    success: bool = True
    upload_url: str
    file_url: str
    media_id: str
    expires_at: str


def _required(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} is required", code="FIELD_REQUIRED")
    return value.strip()


def _check_file_name(name: str) -> str:
    """A name, not a path: no separators, no control characters, at most 255 bytes."""
    if any(c in "/\\" or unicodedata.category(c) in _NOT_IN_NAMES for c in name):
        raise ValidationError(
            "fileName must be text without path separators or control characters",
            code="INVALID_FILE_NAME",
        )
    if len(name.encode()) > MAX_FILE_NAME_BYTES:
        raise ValidationError(
            f"fileName is longer than {MAX_FILE_NAME_BYTES} bytes (UTF-8)",
            code="FILE_NAME_TOO_LONG",
            limit=MAX_FILE_NAME_BYTES,
        )
    return name


def parse_upload_request(body: Mapping[str, Any]) -> UploadRequest:
    file_name = _check_file_name(_required(body, "fileName"))
    content_type = _required(body, "contentType")
    media_type, kind = accepted_type(content_type), kind_of(content_type)
    if media_type is None or kind is None:
        raise ValidationError("Invalid content type", code="INVALID_CONTENT_TYPE")
    declared = body.get("type")
    if declared is not None and declared not in ("image", "video"):
        raise ValidationError("Invalid type", code="INVALID_TYPE")
    if declared is not None and declared != kind:
        raise ValidationError("Invalid type", code="INVALID_TYPE")
    post_group_id = _required(body, "postGroupId")
    return UploadRequest(post_group_id, file_name, media_type, kind, put_type=content_type)
