"""The composer's optional fields, read from its form as the API reads them from a body: the
first comment (text, and the platform types it is for) and the platformSettings object, typed
as JSON. Both are checked later by the same services create-post and update-post use."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import ImmutableMultiDict

from herald.domain.first_comment import FirstComment, FirstCommentError, parse_first_comment
from herald.errors import ValidationError


def comment_body(fields: ImmutableMultiDict[str, str]) -> dict[str, Any] | None:
    """firstComment as the API takes it; None (which clears it on an edit) when blank."""
    text = fields.get("firstComment", "")
    if not text.strip():
        return None
    platforms = fields.get("firstCommentPlatforms", "").replace(",", " ").split()
    return {"text": text, **({"platforms": platforms} if platforms else {})}


def first_comment(fields: ImmutableMultiDict[str, str]) -> FirstComment | None:
    try:
        return parse_first_comment(comment_body(fields))
    except FirstCommentError as exc:
        raise ValidationError(str(exc), code=exc.code, field=exc.field, **exc.extra) from exc


def platform_settings(fields: ImmutableMultiDict[str, str]) -> dict[str, Any] | None:
    """The settings object typed in the form; None when the field is blank."""
    raw = fields.get("platformSettings", "").strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationError(
            "Platform settings must be a JSON object keyed by platform, such as "
            '{"twitter": {"replyTo": "1234567890"}}',
            code="INVALID_PLATFORM_SETTINGS",
        ) from exc
    if not isinstance(value, dict):
        raise ValidationError(
            "platformSettings must be an object", code="INVALID_PLATFORM_SETTINGS"
        )
    return value
