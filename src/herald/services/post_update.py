"""update-post: reschedule, pause and resume exactly as the seed document says, and the edits of
publora-latest §2.15 (content, platforms, platformSettings, firstComment, mediaUrls)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.first_comment import CommentNotice, FirstComment, from_stored
from herald.domain.platform import Platform, platform_bits, platform_id
from herald.domain.post_state import EDITABLE_STATES, PostStatus, TargetState, transition
from herald.domain.publishing import publish_key
from herald.domain.timestamps import LATEST_SCHEDULED_TIME
from herald.errors import ConflictError, ValidationError
from herald.media.base import MediaStore
from herald.models import Connection, Media, PostGroup
from herald.services.media import attached, check_rules
from herald.services.media_urls import Fetched, attach_fetched
from herald.services.post import (
    INVALID_TIME,
    account_text_limit,
    check_schedulable,
    checked_comment,
    checked_settings,
    current_status,
    find_post,
    new_target,
    plan_text,
    refresh_group_status,
    resolve_connections,
    set_due,
)
from herald.services.public_media import check_public_media
from herald.store.media import MediaRecordStore
from herald.store.webhook_events import post_demoted, post_scheduled

_BEING_SENT = frozenset({PostStatus.PENDING, PostStatus.PROCESSING})


VERSION_CONFLICT = "Post group state changed concurrently; please retry."
NOT_EDITABLE = "Cannot update published or failed posts"


@dataclass(frozen=True)
class PostChange:
    """Every field is a patch: None (or not sent) leaves it as it is."""

    status: str | None  # "draft" | "scheduled" | None
    scheduled_at: datetime | None
    platform_settings: dict[str, Any] | None = None  # checked; merged per platform
    content: str | None = None
    platform_ids: Sequence[str] | None = None  # replaces the targets, in this order
    first_comment_sent: bool = False  # `firstComment` was in the body (null clears it)
    first_comment: FirstComment | None = None
    media_urls: Sequence[str] = ()  # appended to the media, fetched before the write
    # attach-media's change: a scheduled post it returns to draft is announced as post.demoted
    # (reason media_changed, changeType attach), as the OAS's webhook events describe it.
    announce_demotion: bool = False


@dataclass(frozen=True)
class Retarget:
    """A content or platform edit, resolved and planned before the write transaction; the
    write applies it only if the group is still at `version`."""

    version: int
    content: str
    connections: Sequence[Connection]  # the final targets, in order
    parts: Sequence[Sequence[str]] = ()  # per connection, filled by plan_retarget


@dataclass(frozen=True)
class UpdateOutcome:
    group: PostGroup
    notices: Sequence[CommentNotice] = field(default_factory=list)


async def check_editable(session: AsyncSession, account_id: str, group_id: str) -> None:
    """Before fetching a request's files: the post exists and can still change."""
    _check_updatable(current_status(await find_post(session, account_id, group_id)))


IN_PROGRESS = (
    "Publishing has already started; media cannot be changed. Duplicate the post to recover "
    "its content."
)


async def check_attachable(session: AsyncSession, account_id: str, group_id: str) -> None:
    """attach-media's refusals (publora-latest §2.6), before anything is fetched."""
    status = current_status(await find_post(session, account_id, group_id))
    if status in _BEING_SENT:
        raise ConflictError(IN_PROGRESS, code="POST_PUBLISH_IN_PROGRESS")
    if status not in (PostStatus.DRAFT, PostStatus.SCHEDULED):
        raise ValidationError(
            f"Cannot update post: post is currently in {status.value} status",
            code="POST_NOT_EDITABLE",
        )


async def read_retarget(
    session: AsyncSession, account_id: str, group_id: str, change: PostChange
) -> Retarget | None:
    """Reads only: the connections of the final targets (one query), None without such edits."""
    if change.content is None and change.platform_ids is None:
        return None
    group = await find_post(session, account_id, group_id)
    _check_updatable(current_status(group))
    ids = change.platform_ids
    if ids is None:
        ids = [platform_id(Platform(t.platform), t.external_account_id) for t in group.targets]
    connections = await resolve_connections(session, account_id, ids)
    content = group.content if change.content is None else change.content
    return Retarget(group.version, content, connections)


def plan_retarget(retarget: Retarget) -> Retarget:
    """CPU only: each target's thread plan, once per distinct rule (see post.plan_post)."""
    plans: dict[tuple[Platform, int | None], list[str]] = {}
    parts = []
    for connection in retarget.connections:
        platform, limit = Platform(connection.platform), account_text_limit(connection)
        if (platform, limit) not in plans:
            plans[platform, limit] = plan_text(platform, retarget.content, limit)
        parts.append(plans[platform, limit])
    return Retarget(retarget.version, retarget.content, retarget.connections, parts)


async def update_post(
    session: AsyncSession,
    account_id: str,
    group_id: str,
    change: PostChange,
    now: datetime,
    *,
    retarget: Retarget | None = None,
    fetched: Sequence[Fetched] = (),
    store: MediaStore | None = None,
) -> UpdateOutcome:
    group = await find_post(session, account_id, group_id)
    status = current_status(group)
    _check_updatable(status)
    if retarget is not None and group.version != retarget.version:
        raise ConflictError(VERSION_CONFLICT, code="POST_GROUP_VERSION_CONFLICT")
    state, scheduled_at = _schedule(group, status, change, now)
    was = (status, group.scheduled_at)
    if retarget is not None:
        _retarget(group, retarget, TargetState(status.value), now)
    platforms = [Platform(t.platform) for t in group.targets]
    notices = _comment(group, change, platforms, retargeted=retarget is not None)
    media: list[Media] = []  # read only when a check needs it
    if fetched and store is not None:
        media = await attach_fetched(session, group, fetched, store, now)
    elif state is TargetState.SCHEDULED or retarget is not None:
        media = list(await MediaRecordStore(session).for_group(group.id))
    if retarget is not None and not fetched:  # new targets take the files already there
        check_rules(group, attached(media))
        if store is not None:
            urls = [m.public_url for m in media]
            check_public_media(platforms, urls, store.reachable_networks)
    if state is TargetState.SCHEDULED:
        check_schedulable(platforms, len(media))
    if change.platform_settings is not None:
        group.platform_settings = _merged(group.platform_settings, change.platform_settings)
    _apply(group, state, scheduled_at, now)
    await session.flush()
    await _announce(session, group, change, was, media if fetched else [], now)
    return UpdateOutcome(group, notices)


async def _announce(
    session: AsyncSession,
    group: PostGroup,
    change: PostChange,
    was: tuple[PostStatus, datetime | None],
    attached_now: Sequence[Media],
    now: datetime,
) -> None:
    """The webhook event the update causes, in its transaction: post.scheduled for a newly
    scheduled post or a new time; post.demoted when attach-media returned a scheduled post to
    draft (its file is the last attached)."""
    status = current_status(group)
    demoted = was[0] == PostStatus.SCHEDULED and status == PostStatus.DRAFT
    if status == PostStatus.SCHEDULED and was != (PostStatus.SCHEDULED, group.scheduled_at):
        await post_scheduled(session, group, now)
    elif change.announce_demotion and attached_now and demoted:
        await post_demoted(session, group, attached_now[-1].id, "attach", now)


def _schedule(
    group: PostGroup, status: PostStatus, change: PostChange, now: datetime
) -> tuple[TargetState, datetime | None]:
    """The state and time asked for, with the seed's "Invalid scheduled time" refusals."""
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
    return state, scheduled_at


def _comment(
    group: PostGroup, change: PostChange, platforms: list[Platform], *, retargeted: bool
) -> list[CommentNotice]:
    """§2.15: replaced when sent (null removes it); checked again when the targets change."""
    if change.first_comment_sent:
        group.first_comment = change.first_comment.stored() if change.first_comment else None
    if change.first_comment_sent or retargeted:
        return checked_comment(from_stored(group.first_comment), platforms)
    return []


def _retarget(group: PostGroup, retarget: Retarget, state: TargetState, now: datetime) -> None:
    """New text on every target; targets added (in the group's state) and removed, in the order
    asked for. Reordering the same ids only renumbers them."""
    kept = {t.connection_id: t for t in group.targets}
    targets = []
    for position, (connection, parts) in enumerate(
        zip(retarget.connections, retarget.parts, strict=True)
    ):
        target = kept.pop(connection.id, None)
        if target is None:
            target = new_target(connection, position, parts, state, group.scheduled_at, now)
            # Column defaults come at insert; _apply below counts from these.
            target.version, target.claim_token = 1, 0
        else:
            target.position = position
            target.thread_parts = list(parts)
        targets.append(target)
    if any(TargetState(t.state) not in EDITABLE_STATES for t in kept.values()):
        raise ValidationError(NOT_EDITABLE, code="POST_NOT_EDITABLE")
    group.targets = targets
    group.content = retarget.content
    # list-posts' platform filter reads this set (store/post_list.py): it follows the targets.
    group.platform_bits = platform_bits(c.platform for c in retarget.connections)


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
        raise ValidationError(NOT_EDITABLE, code="POST_NOT_EDITABLE")


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
