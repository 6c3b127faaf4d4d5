"""Wire shape of `GET /post-logs/:postGroupId` (Publora's PostLog)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from herald.api.schemas.base import WireModel, omitted_when_none
from herald.domain.post_log import is_retryable, log_event
from herald.domain.timestamps import format_timestamp
from herald.services.post_logs import LogEntry

PostLogEvent = Literal[
    "scheduled",
    "processing",
    "publish_attempted",
    "publish_succeeded",
    "publish_failed",
    "publish_retry",
    "status_changed",
    "media_finalize_succeeded",
    "media_finalize_failed",
    "linkedin_document_upload_succeeded",
    "linkedin_document_upload_failed",
]


class PostLog(WireModel):
    id: str = Field(alias="_id")
    post_group_id: str
    post_id: str = Field(description="The platform post (publish target) the entry is about")
    platform: str
    event: PostLogEvent
    error: str | None = omitted_when_none("The platform's or Herald's message, when one")
    http_status: int | None = Field(description="The platform's HTTP status, null when none")
    metadata: dict[str, Any] = Field(
        description="Herald's outcome name, the thread part, whether Herald tries again, "
        "and the platform's id of what was created"
    )
    created_at: str
    updated_at: str
    v: int = Field(default=0, alias="__v")


class PostLogsResponse(WireModel):
    success: bool = True
    logs: list[PostLog]


def post_log(entry: LogEntry) -> PostLog:
    attempt, target = entry.attempt, entry.target
    metadata: dict[str, Any] = {
        "outcome": attempt.outcome,
        "part": attempt.part,
        "retryable": is_retryable(attempt.outcome),
    }
    if attempt.external_id is not None:
        metadata["postedId"] = attempt.external_id
    moment = format_timestamp(attempt.at)
    return PostLog(
        id=attempt.id,
        post_group_id=target.post_group_id,
        post_id=target.id,
        platform=target.platform,
        event=log_event(attempt.outcome),
        error=attempt.error,
        http_status=attempt.http_status,
        metadata=metadata,
        created_at=moment,
        updated_at=moment,
    )
