"""Request bodies and query strings of the post endpoints, parsed with Publora's exact errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from herald.api.json_input import check_text
from herald.api.schemas.base import WireModel
from herald.domain.first_comment import FirstComment, FirstCommentError, parse_first_comment
from herald.domain.text import CONTENT_MAX_CHARACTERS
from herald.domain.timestamps import LATEST_SCHEDULED_TIME, InvalidTimestampError, parse_timestamp
from herald.errors import ValidationError, check_length
from herald.services.media_urls import MAX_URLS, parse_media_urls
from herald.services.post import INVALID_TIME, MAX_PLATFORMS, NewPost, checked_settings
from herald.services.post_update import PostChange
from herald.store.post import PostListQuery, SortField

STATUS_VALUES = ("draft", "scheduled")
LIST_STATUSES = ("draft", "scheduled", "published", "failed", "partially_published")
SORT_FIELDS: tuple[SortField, ...] = ("createdAt", "updatedAt", "scheduledTime")
DEFAULT_PAGE, DEFAULT_LIMIT, MAX_LIMIT = 1, 20, 100
# Alt texts go to images by upload order: no platform takes more than 20 images (LinkedIn), and
# none a longer alt text than Bluesky's 2,000 characters (Mastodon's default is 1,500).
ALT_TEXTS_MAX, ALT_TEXT_MAX_CHARACTERS = 20, 2000


class FirstCommentInput(WireModel):
    text: str = Field(max_length=25_000)
    platforms: list[str] | None = Field(
        default=None, description="Platform types (bluesky, mastodon, ...); omitted: all"
    )


class CreatePostRequest(WireModel):
    """Documentation of the body; parsing is done by parse_create_post."""

    content: str = Field(max_length=CONTENT_MAX_CHARACTERS)
    platforms: list[str] = Field(
        description="Connection ids, e.g. twitter-123456789", max_length=MAX_PLATFORMS
    )
    scheduled_time: str | None = Field(
        default=None,
        description="RFC 3339 with a zone; omitted or null makes a draft. Less than 5 minutes "
        "past is moved to now with a SCHEDULED_TIME_COERCED warning; further back is 400 "
        "SCHEDULED_TIME_IN_PAST (unless HERALD_STRICT_SCHEDULED_TIME is false)",
    )
    status: Literal["draft", "scheduled"] | None = None
    platform_settings: dict[str, Any] | None = None
    alt_texts: list[Annotated[str, Field(max_length=ALT_TEXT_MAX_CHARACTERS)]] | None = Field(
        default=None, max_length=ALT_TEXTS_MAX
    )
    first_comment: FirstCommentInput | None = None
    media_urls: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_URLS,
        description="http(s) URLs fetched and attached before the post is stored; all or nothing",
    )


class UpdatePostRequest(WireModel):
    status: Literal["draft", "scheduled"] | None = None
    scheduled_time: str | None = None
    platform_settings: dict[str, Any] | None = Field(
        default=None, description="Merged per platform into the stored settings"
    )
    content: str | None = Field(
        default=None, max_length=CONTENT_MAX_CHARACTERS, description="Blank leaves it unchanged"
    )
    platforms: list[str] | None = Field(
        default=None, max_length=MAX_PLATFORMS, description="Replaces the targets"
    )
    first_comment: FirstCommentInput | None = Field(default=None, description="null removes it")
    media_urls: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_URLS, description="Appended to the media"
    )


# create-post's wording (publora-latest §2.14.1); update-post keeps the seed's INVALID_TIME.
INVALID_TIME_FORMAT = "Invalid scheduled time format"


def _optional_time(value: Any, message: str = INVALID_TIME) -> datetime | None:
    if value is None:
        return None
    bad_time = ValidationError(message, code="INVALID_SCHEDULED_TIME")
    if not isinstance(value, str):
        raise bad_time
    try:
        moment = parse_timestamp(value)
    except InvalidTimestampError as exc:
        raise bad_time from exc
    if moment >= LATEST_SCHEDULED_TIME:  # as Publora words any time it cannot schedule
        raise bad_time
    return moment


def _optional_status(value: Any) -> str | None:
    if value is None:
        return None
    if value not in STATUS_VALUES:
        raise ValidationError("Status must be draft or scheduled", code="INVALID_STATUS")
    return str(value)


def _content(content: Any) -> str:
    if not isinstance(content, str) or not content.strip():
        raise ValidationError("Content is required", code="CONTENT_REQUIRED")
    if len(content) > CONTENT_MAX_CHARACTERS:
        raise ValidationError(
            f"Content too long: {len(content)} characters, the limit is {CONTENT_MAX_CHARACTERS}",
            code="CONTENT_TOO_LONG",
            limit=CONTENT_MAX_CHARACTERS,
        )
    return content


def _platforms(platforms: Any) -> list[str]:
    if isinstance(platforms, list):
        _at_most("platforms", platforms, MAX_PLATFORMS, "TOO_MANY_PLATFORMS")
    if (
        not isinstance(platforms, list)
        or not platforms
        or not all(isinstance(p, str) and p for p in platforms)
    ):
        raise ValidationError("Platforms are required", code="PLATFORMS_REQUIRED")
    return list(dict.fromkeys(platforms))  # duplicates merged, order kept


def _first_comment(value: Any) -> FirstComment | None:
    try:
        return parse_first_comment(value)
    except FirstCommentError as exc:
        raise ValidationError(str(exc), code=exc.code, field=exc.field, **exc.extra) from exc


def parse_create_post(body: Mapping[str, Any]) -> NewPost:
    content = _content(body.get("content"))
    platforms = _platforms(body.get("platforms"))
    status = _optional_status(body.get("status"))
    scheduled_at = _optional_time(body.get("scheduledTime"), INVALID_TIME_FORMAT)
    settings = _platform_settings(body.get("platformSettings"))
    alt_texts = _alt_texts(body.get("altTexts"))
    return NewPost(
        content=content,
        platform_ids=platforms,
        scheduled_at=scheduled_at,
        status=status,
        platform_settings=settings or {},
        alt_texts=alt_texts,
        first_comment=_first_comment(body.get("firstComment")),
        media_urls=parse_media_urls(body.get("mediaUrls")) or (),
    )


def _platform_settings(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ValidationError(
            "platformSettings must be an object", code="INVALID_PLATFORM_SETTINGS"
        )
    return value


def _alt_texts(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ValidationError("altTexts must be an array of strings", code="INVALID_ALT_TEXTS")
    _at_most("altTexts", value, ALT_TEXTS_MAX, "TOO_MANY_ALT_TEXTS")
    for index, text in enumerate(value):
        check_length(f"altTexts[{index}]", text, ALT_TEXT_MAX_CHARACTERS)
    return value


def _at_most(name: str, items: list[Any], limit: int, code: str) -> None:
    if len(items) > limit:
        raise ValidationError(
            f"Too many {name}: {len(items)}, the limit is {limit}", code=code, limit=limit
        )


def _edited_content(value: Any) -> str | None:
    """null and blank text leave the content as it is (the seed's "extra fields are ignored"
    sends `"content": ""`); anything else is checked as create-post checks it."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("Content must be a string", code="INVALID_CONTENT", field="content")
    return _content(value) if value.strip() else None


def parse_update_post(body: Mapping[str, Any]) -> PostChange:
    """Every field is a patch; null counts as absent (publora-latest §2.15), except a null
    `firstComment`, which removes it. Unknown fields are ignored. Settings, text and URLs are
    checked here, before the write lock is taken."""
    status, scheduled_time = body.get("status"), body.get("scheduledTime")
    settings = _platform_settings(body.get("platformSettings"))
    content = _edited_content(body.get("content"))
    raw_platforms = body.get("platforms")
    platforms = None if raw_platforms is None else _platforms(raw_platforms)
    comment_sent = "firstComment" in body
    media_urls = parse_media_urls(body.get("mediaUrls"))
    edits = (settings, content, platforms, media_urls)
    if status is None and scheduled_time is None and not comment_sent and edits == (None,) * 4:
        raise ValidationError(
            "Either status or scheduledTime must be provided", code="NOTHING_TO_UPDATE"
        )
    return PostChange(
        status=_optional_status(status),
        scheduled_at=_optional_time(scheduled_time),
        platform_settings=None if settings is None else checked_settings(settings),
        content=content,
        platform_ids=platforms,
        first_comment_sent=comment_sent,
        first_comment=_first_comment(body.get("firstComment")) if comment_sent else None,
        media_urls=media_urls or (),
    )


def _int_or_default(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _choice(raw: str | None, allowed: tuple[str, ...], message: str, code: str) -> str | None:
    if raw is None:
        return None
    if raw not in allowed:
        raise ValidationError(message, code=code)
    return raw


def _date_filter(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        return parse_timestamp(raw)
    except InvalidTimestampError as exc:
        raise ValidationError(f"Invalid {name} format", code="INVALID_DATE_FILTER") from exc


def _query_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_TIME = {"type": "string", "format": "date-time"}
# The query string is parsed by parse_list_query (Publora's silent fallbacks); this documents it.
LIST_QUERY_DOC: dict[str, Any] = {
    "parameters": [
        _query_param("page", {"type": "integer"}, "1-based; not a number or below 1 means 1"),
        _query_param(
            "limit",
            {"type": "integer"},
            f"Default {DEFAULT_LIMIT}; clamped to 1..{MAX_LIMIT}, not a number means the default",
        ),
        _query_param("status", {"type": "string", "enum": list(LIST_STATUSES)}, "Group status"),
        _query_param("platform", {"type": "string"}, "Platform name prefix, any case"),
        _query_param("sortBy", {"type": "string", "enum": list(SORT_FIELDS)}, "Default createdAt"),
        _query_param("sortOrder", {"type": "string", "enum": ["asc", "desc"]}, "Default desc"),
        _query_param("fromDate", _TIME, "scheduledTime at or after (RFC 3339 with a zone)"),
        _query_param("toDate", _TIME, "scheduledTime at or before (RFC 3339 with a zone)"),
    ]
}


def parse_list_query(account_id: str, params: Mapping[str, str]) -> PostListQuery:
    """Bad page/limit fall back to the defaults and are clamped, as Publora does silently.
    An empty parameter (`?status=`) counts as absent."""
    params = {name: value for name, value in params.items() if value != ""}
    check_text(params)
    status = _choice(
        params.get("status"),
        LIST_STATUSES,
        "Invalid status. Must be one of: " + ", ".join(LIST_STATUSES),
        "INVALID_STATUS",
    )
    sort_by = _choice(
        params.get("sortBy"),
        SORT_FIELDS,
        "Invalid sortBy. Must be one of: " + ", ".join(SORT_FIELDS),
        "INVALID_SORT_BY",
    )
    sort_order = _choice(
        params.get("sortOrder"),
        ("asc", "desc"),
        "Invalid sortOrder. Must be one of: asc, desc",
        "INVALID_SORT_ORDER",
    )
    return PostListQuery(
        account_id=account_id,
        page=max(1, _int_or_default(params.get("page"), DEFAULT_PAGE)),
        limit=min(MAX_LIMIT, max(1, _int_or_default(params.get("limit"), DEFAULT_LIMIT))),
        sort_by=next(f for f in SORT_FIELDS if f == (sort_by or "createdAt")),
        descending=sort_order != "asc",
        status=status,
        platform_prefix=params.get("platform"),
        scheduled_from=_date_filter(params.get("fromDate"), "fromDate"),
        scheduled_to=_date_filter(params.get("toDate"), "toDate"),
    )
