"""Publora's LinkedIn endpoint requests, checked with its exact strings (publora-latest
§2.10–2.13 and its OpenAPI): pure parsing, no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.domain.linkedin_text import commentary
from herald.errors import ValidationError

REACTIONS = ("LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION", "ENTERTAINMENT")
METRICS = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT")
_POST_URN = re.compile(r"urn:li:(?:share|ugcPost|activity):[0-9]{1,30}")
_PARENT_URN = re.compile(r"urn:li:(?:share|ugcPost):[0-9]{1,30}")
_COMMENT_URN = re.compile(r"urn:li:comment:\((urn:li:[A-Za-z]+:[0-9]{1,30}),([0-9]{1,30})\)")
MAX_RAW_COMMENT = 10_000
MAX_COMMENT = 1_250
MAX_COMMENTARY = 3_000


def _bad(message: str, code: str = "VALIDATION_ERROR") -> ValidationError:
    return ValidationError(message, code=code)


def _present(body: Mapping[str, Any], *names: str) -> bool:
    return all(body.get(n) not in (None, "") for n in names)


def post_urn(value: object) -> str:
    if not isinstance(value, str) or _POST_URN.fullmatch(value) is None:
        raise _bad("postedId must be a valid LinkedIn URN", "INVALID_POSTED_ID")
    return value


def platform_string(body: Mapping[str, Any]) -> None:
    if not isinstance(body.get("platformId"), str):
        raise _bad("platformId must be a string", "INVALID_PLATFORM_ID")


@dataclass(frozen=True)
class CommentRequest:
    posted_id: str
    platform_id: str
    message: str
    parent: str | None


def comment_request(body: Mapping[str, Any]) -> CommentRequest:
    if not _present(body, "postedId", "platformId") or not isinstance(body.get("message"), str):
        raise _bad("postedId, message, and platformId are required", "MISSING_FIELD")
    platform_string(body)
    urn = post_urn(body["postedId"])
    message = str(body["message"]).strip()
    if body.get("imageUrl") not in (None, ""):
        raise _bad("imageUrl is not supported by this server", "UNSUPPORTED_FIELD")
    if not message:
        raise _bad("message cannot be empty without imageUrl", "EMPTY_MESSAGE")
    if len(message) > MAX_RAW_COMMENT:
        raise _bad("comment text cannot exceed 10000 characters", "FIELD_TOO_LONG")
    if len(commentary(message)) > MAX_COMMENT:
        raise _bad(
            "comment text cannot exceed 1250 characters after mention processing", "FIELD_TOO_LONG"
        )
    parent = body.get("parentComment")
    if parent is not None and (not isinstance(parent, str) or not _COMMENT_URN.fullmatch(parent)):
        raise _bad("parentComment must be a valid LinkedIn URN", "INVALID_PARENT_COMMENT")
    return CommentRequest(urn, str(body["platformId"]), message, parent)


def comment_deletion(body: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(postedId, platformId, the comment id as sent, its numeric id)."""
    if not _present(body, "postedId", "commentId", "platformId"):
        raise _bad("postedId, commentId, and platformId are required", "MISSING_FIELD")
    platform_string(body)
    urn = post_urn(body["postedId"])
    given = body["commentId"]
    found = _COMMENT_URN.fullmatch(given) if isinstance(given, str) else None
    if found is not None:
        return urn, str(body["platformId"]), given, found.group(2)
    if isinstance(given, str) and given.isdigit() and len(given) <= 30:
        return urn, str(body["platformId"]), given, given
    raise _bad("commentId must be a valid LinkedIn URN or numeric ID", "INVALID_COMMENT_ID")


def reaction_request(body: Mapping[str, Any]) -> tuple[str, str, str]:
    if not _present(body, "postedId", "reactionType", "platformId"):
        raise _bad("postedId, reactionType, and platformId are required", "MISSING_FIELD")
    platform_string(body)
    reaction = body["reactionType"]
    if reaction not in REACTIONS:
        raise _bad(f"reactionType must be one of: {', '.join(REACTIONS)}", "INVALID_REACTION")
    return post_urn(body["postedId"]), str(body["platformId"]), str(reaction)


def reaction_removal(body: Mapping[str, Any]) -> tuple[str, str]:
    if not _present(body, "postedId", "platformId"):
        raise _bad("postedId and platformId are required", "MISSING_FIELD")
    platform_string(body)
    return post_urn(body["postedId"]), str(body["platformId"])


@dataclass(frozen=True)
class ReshareRequest:
    platform_id: str
    parent: str
    commentary: str
    visibility: str


def reshare_request(body: Mapping[str, Any]) -> ReshareRequest:
    if "platformId" not in body or "parent" not in body:
        raise _bad("platformId and parent are required", "MISSING_FIELD")
    platform_string(body)
    if not str(body["platformId"]).strip():
        raise _bad("platformId cannot be empty", "MISSING_FIELD")
    parent = body["parent"]
    if not isinstance(parent, str):
        raise _bad("parent must be a string", "INVALID_PARENT")
    if not parent.strip():
        raise _bad("parent cannot be empty", "INVALID_PARENT")
    if _PARENT_URN.fullmatch(parent.strip()) is None:
        raise _bad(
            "parent must be a valid LinkedIn post URN (urn:li:share:<id> or urn:li:ugcPost:<id>)",
            "INVALID_PARENT",
        )
    text = body.get("commentary", "")
    if not isinstance(text, str):
        raise _bad("commentary must be a string", "INVALID_COMMENTARY")
    if len(text) > MAX_COMMENTARY:
        raise _bad("commentary cannot exceed 3000 characters", "FIELD_TOO_LONG")
    visibility = body.get("visibility", "PUBLIC")
    if not isinstance(visibility, str):
        raise _bad("visibility must be a string", "INVALID_VISIBILITY")
    if visibility.upper() not in ("PUBLIC", "CONNECTIONS"):
        raise _bad("visibility must be one of: PUBLIC, CONNECTIONS", "INVALID_VISIBILITY")
    return ReshareRequest(str(body["platformId"]), parent.strip(), text, visibility.upper())


def statistics_request(body: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...], bool]:
    """(postedId, platformId, metrics, whether one metric was asked for alone)."""
    if not _present(body, "postedId", "platformId"):
        raise _bad("postedId and platformId are required", "MISSING_FIELD")
    platform_string(body)
    urn = post_urn(body["postedId"])
    invalid = _bad(f"Invalid queryType. Must be one of: {', '.join(METRICS)}", "INVALID_QUERY")
    many = body.get("queryTypes")
    if many == "ALL":
        return urn, str(body["platformId"]), METRICS, False
    if isinstance(many, list) and many:
        if not all(m in METRICS for m in many):
            raise invalid
        return urn, str(body["platformId"]), tuple(dict.fromkeys(many)), False
    if many is not None:
        raise invalid
    one = body.get("queryType", "IMPRESSION")
    if one not in METRICS:
        raise invalid
    return urn, str(body["platformId"]), (str(one),), True


Day = tuple[int, int, int]


def _day(value: object) -> Day | None:
    if not isinstance(value, dict):
        return None
    parts = [value.get(k) for k in ("year", "month", "day")]
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in parts):
        return None
    year, month, day = (int(p) for p in parts)  # type: ignore[arg-type]
    if not (1 <= month <= 12 and 1 <= day <= 31 and 2000 <= year <= 2100):
        return None
    return year, month, day


def date_range(body: Mapping[str, Any]) -> tuple[Day, Day] | None:
    """The optional dateRange {start, end}; 400 "dateRange must be an object" otherwise."""
    given = body.get("dateRange")
    if given is None:
        return None
    start = _day(given.get("start")) if isinstance(given, dict) else None
    end = _day(given.get("end")) if isinstance(given, dict) else None
    if start is None or end is None or not start < end:
        raise _bad("dateRange must be an object", "INVALID_DATE_RANGE")
    return start, end


def followers_request(body: Mapping[str, Any]) -> tuple[str, str, tuple[Day, Day] | None]:
    """(platformId, period, dateRange)."""
    if body.get("platformId") in (None, ""):
        raise _bad("platformId is required", "MISSING_FIELD")
    platform_string(body)
    period = body.get("period", "lifetime")
    if period not in ("lifetime", "daily"):
        raise _bad("Invalid period", "INVALID_PERIOD")
    span = date_range(body)
    if period == "daily" and span is None:
        raise _bad("dateRange is required for daily period", "MISSING_FIELD")
    return str(body["platformId"]), str(period), span


def account_request(body: Mapping[str, Any]) -> tuple[str, tuple[str, ...], str]:
    """(platformId, metrics, aggregation)."""
    if body.get("platformId") in (None, ""):
        raise _bad("platformId is required", "MISSING_FIELD")
    platform_string(body)
    aggregation = body.get("aggregation", "TOTAL")
    if aggregation != "TOTAL":  # DAILY: see the README's compatibility notes
        raise _bad("Invalid aggregation", "INVALID_AGGREGATION")
    many, one = body.get("queryTypes"), body.get("queryType")
    if many == "ALL":
        metrics: tuple[str, ...] = METRICS
    elif isinstance(many, list) and many and all(m in METRICS for m in many):
        metrics = tuple(dict.fromkeys(str(m) for m in many))
    elif many is None and (one is None or one in METRICS):
        metrics = (str(one or "IMPRESSION"),)
    else:
        raise _bad("Invalid queryType", "INVALID_QUERY")
    return str(body["platformId"]), metrics, str(aggregation)


def summary_request(body: Mapping[str, Any]) -> tuple[str, tuple[Day, Day] | None]:
    """(platformId, dateRange) of linkedin-profile-summary."""
    if body.get("platformId") in (None, ""):
        raise _bad("platformId is required", "MISSING_FIELD")
    platform_string(body)
    return str(body["platformId"]), date_range(body)
