"""update-post: reschedule, pause and resume, exactly as the seed document says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.platform import Platform
from herald.domain.post_state import EDITABLE_STATES, PostStatus, TargetState, transition
from herald.domain.publishing import publish_key
from herald.domain.timestamps import LATEST_SCHEDULED_TIME
from herald.errors import ValidationError
from herald.models import PostGroup
from herald.services.post import (
    INVALID_TIME,
    check_schedulable,
    checked_settings,
    current_status,
    find_post,
    refresh_group_status,
    set_due,
)
from herald.store.post import PostStore
from herald.store.webhook_events import post_scheduled

_BEING_SENT = frozenset({PostStatus.PENDING, PostStatus.PROCESSING})


@dataclass(frozen=True)
class PostChange:
    status: str | None  # "draft" | "scheduled" | None
    scheduled_at: datetime | None
    platform_settings: dict[str, Any] | None = None  # checked; merged per platform


async def update_post(
    session: AsyncSession, account_id: str, group_id: str, change: PostChange, now: datetime
) -> PostGroup:
    group = await find_post(session, account_id, group_id)
    status = current_status(group)
    _check_updatable(status)
    if change.scheduled_at is not None and change.scheduled_at < now:
        raise ValidationError(INVALID_TIME, code="INVALID_SCHEDULED_TIME")
    scheduled_at = change.scheduled_at or group.scheduled_at
    state = _requested_state(status, change)
    if state is TargetState.SCHEDULED and scheduled_at is None:
        # publora-latest §2.15: with no time at all, scheduling means now. The seed's
        # "Invalid scheduled time" is about a past or malformed time, which is still refused.
        scheduled_at = now
    if state is TargetState.SCHEDULED and not _schedulable(scheduled_at, now):
        raise ValidationError(INVALID_TIME, code="INVALID_SCHEDULED_TIME")
    if state is TargetState.SCHEDULED:
        media = await PostStore(session).all_media_of(group.id)
        check_schedulable((Platform(t.platform) for t in group.targets), len(media))
    if change.platform_settings is not None:
        group.platform_settings = _merged(group.platform_settings, change.platform_settings)
    was = (status, group.scheduled_at)
    _apply(group, state, scheduled_at, now)
    await session.flush()
    if current_status(group) == PostStatus.SCHEDULED and was != (
        PostStatus.SCHEDULED,
        group.scheduled_at,
    ):
        await post_scheduled(session, group, now)
    return group


def _merged(stored: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """publora-latest §5.1: update merges over the stored values, per platform; the result is
    checked again, since a rule may span fields (TikTok's brand content must be commercial)."""
    merged = {**stored}
    for platform, values in change.items():
        merged[platform] = {**stored.get(platform, {}), **values}
    return checked_settings(merged)


def _schedulable(scheduled_at: datetime | None, now: datetime) -> bool:
    """The kept time of a draft may predate today's bound (LATEST_SCHEDULED_TIME): a draft
    stored with 9999-12-31 must not be scheduled, as its expiry would not fit in a datetime."""
    return scheduled_at is not None and now <= scheduled_at < LATEST_SCHEDULED_TIME


def _check_updatable(status: PostStatus) -> None:
    if status in _BEING_SENT:
        raise ValidationError(
            "Cannot update post: post is currently in processing status",
            code="POST_IN_PROGRESS",
        )
    if status not in (PostStatus.DRAFT, PostStatus.SCHEDULED):
        raise ValidationError("Cannot update published or failed posts", code="POST_NOT_EDITABLE")


def _requested_state(current: PostStatus, change: PostChange) -> TargetState:
    """An explicit status wins; a time alone schedules a draft (DESIGN §3.2)."""
    if change.status is not None:
        return TargetState(change.status)
    if change.scheduled_at is not None:
        return TargetState.SCHEDULED
    return TargetState(current.value)


def _apply(
    group: PostGroup, state: TargetState, scheduled_at: datetime | None, now: datetime
) -> None:
    group.scheduled_at = scheduled_at
    group.updated_at = now
    group.version += 1
    for target in group.targets:
        current = TargetState(target.state)
        if current not in EDITABLE_STATES:
            continue
        target.state = transition(current, state).value
        set_due(target, state, scheduled_at)
        target.version += 1
        target.idempotency_key = publish_key(target.id, target.version)
        # Bumping the fencing token invalidates any claim a worker may hold on the old version.
        target.claim_token += 1
        target.updated_at = now
    refresh_group_status(group)
