"""get-upload-url: the request body, parsed with Publora's exact errors, and the response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from herald.api.schemas.base import WireModel
from herald.domain.media_rules import kind_of
from herald.errors import ValidationError
from herald.services.media import UploadRequest


class UploadUrlRequest(WireModel):
    file_name: str
    content_type: str
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


def parse_upload_request(body: Mapping[str, Any]) -> UploadRequest:
    file_name = _required(body, "fileName")
    content_type = _required(body, "contentType")
    kind = kind_of(content_type)
    if kind is None:
        raise ValidationError("Invalid content type", code="INVALID_CONTENT_TYPE")
    declared = body.get("type")
    if declared is not None and declared not in ("image", "video"):
        raise ValidationError("Invalid type", code="INVALID_TYPE")
    if declared is not None and declared != kind:
        raise ValidationError("Invalid type", code="INVALID_TYPE")
    post_group_id = _required(body, "postGroupId")
    return UploadRequest(post_group_id, file_name, content_type, kind)
