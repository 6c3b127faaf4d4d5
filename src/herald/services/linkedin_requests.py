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
