"""`GET /post-logs/:postGroupId` (publora-latest §2.2): the group's attempt log, first 100
entries, oldest first. Herald logs every platform call (models.PublishAttempt); each becomes one
entry with Publora's event name (domain.post_log)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.ids import is_id
from herald.domain.post_log import MAX_LOG_ENTRIES
from herald.models import PublishAttempt, PublishTarget
from herald.services.post import post_not_found
from herald.store.post import PostStore
from herald.store.post_logs import first_attempts


@dataclass(frozen=True)
class LogEntry:
    attempt: PublishAttempt
    target: PublishTarget


async def post_logs(session: AsyncSession, account_id: str, group_id: str) -> list[LogEntry]:
    """A malformed, unknown or foreign id is the same 404, as on every post route."""
    if not is_id(group_id) or await PostStore(session).get(account_id, group_id) is None:
        raise post_not_found()
    rows = await first_attempts(session, group_id, MAX_LOG_ENTRIES)
    return [LogEntry(attempt, target) for attempt, target in rows]
