"""A target's first-comment state as get-post shows it (publora-latest §2.16 firstCommentResult).

The engine keeps the state in the target's `progress["firstComment"]`: written "pending" before
the platform call (the comment's own send gate), then "posted" or "failed"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from herald.domain.first_comment import SUPPORTED, FirstComment, applies_to
from herald.domain.platform import Platform
from herald.domain.timestamps import parse_timestamp, utc_now
from herald.models import PublishTarget

PROGRESS_KEY = "firstComment"
# A comment still pending this long after its call began lost its worker mid-call: it is never
# tried again (it could be a duplicate), so it is shown as interrupted.
INTERRUPTED_AFTER = timedelta(minutes=10)


def comment_state(
    comment: FirstComment | None,
    target: PublishTarget,
    published: bool,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """None when no comment applies to the target or the post is not published yet."""
    if comment is None or not published:
        return None
    platform = Platform(target.platform)
    asked = not comment.platforms or platform.value in comment.platforms
    if asked and platform not in SUPPORTED:
        return {"status": "skipped", "skipReason": "unsupported_platform"}
    if not applies_to(comment, platform):
        return None
    state = dict(target.progress.get(PROGRESS_KEY) or {"status": "pending"})
    attempted = state.get("attemptedAt")
    pending = state["status"] == "pending" and isinstance(attempted, str)
    if pending and (now or utc_now()) - parse_timestamp(str(attempted)) > INTERRUPTED_AFTER:
        state["status"] = "failed"
        state["error"] = {
            "code": "FIRST_COMMENT_INTERRUPTED",
            "message": "Publishing the first comment was interrupted; it is not retried",
            "outcomeUnknown": True,
        }
    return state
