"""Post groups: create, read and delete, per publora-spec §2–3 and DESIGN §3."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.first_comment import (
    CommentNotice,
    FirstComment,
    FirstCommentError,
    check_first_comment,
)
from herald.domain.ids import is_id, new_id
from herald.domain.past_time import CoercedTime, TimeInPastError, effective_time
from herald.domain.platform import Platform, platform_bits, platform_id, split_platform_id
from herald.domain.platform_settings import (
    PlatformSettingsError,
    SettingTooLongError,
    validate_platform_settings,
)
from herald.domain.post_state import PostStatus, TargetState, group_status, wire_status
from herald.domain.publishing import publish_key
from herald.domain.scheduling_gate import scheduling_errors, validation_envelope
from herald.domain.settings_allowlist import UnknownSettingError
from herald.domain.text import TextTooLongError, plan_parts, text_rule
from herald.domain.timestamps import format_timestamp
from herald.errors import ConflictError, FieldTooLongError, NotFoundError, ValidationError
from herald.models import Connection, Media, PostGroup, PublishTarget
from herald.store.connection import ConnectionStore
from herald.store.post import PostStore
from herald.store.webhook_events import post_scheduled

# A target more than this late is failed as too late rather than published out of context.
EXPIRY_AFTER_DUE = timedelta(hours=24)
# The connections one post may target: each is a row written under the write lock.
MAX_PLATFORMS = 50
INVALID_TIME = "Invalid scheduled time"
READY = "ready"  # a media file whose bytes are stored


@dataclass(frozen=True)
class NewPost:
    content: str
    platform_ids: Sequence[str]
    scheduled_at: datetime | None = None
    status: str | None = None  # "draft" | "scheduled" | None (a draft when there is no time)
    platform_settings: dict[str, Any] = field(default_factory=dict)
    alt_texts: Sequence[str] = ()
    first_comment: FirstComment | None = None
    media_urls: Sequence[str] = ()  # fetched before the post is stored (publora-latest §5.7)


@dataclass(frozen=True)
class CheckedPost:
    """A new post whose time, settings and connections are valid, ready to be planned."""

    account_id: str
    new: NewPost
    state: TargetState
    scheduled_at: datetime | None
    connections: Sequence[Connection]  # in the order asked for; read, not attached
    coerced: CoercedTime | None = None  # a past time moved to now, told as a warning
    platform_settings: dict[str, Any] = field(default_factory=dict)  # as stored
    notices: Sequence[CommentNotice] = ()  # first-comment warnings
    group_id: str = field(default_factory=new_id)  # known before the store: fetched files use it


@dataclass(frozen=True)
class PlannedPost:
    checked: CheckedPost
    thread_parts: Sequence[Sequence[str]]  # per connection


@dataclass(frozen=True)
class PostDetails:
    group: PostGroup
    media_urls: Sequence[str]  # the files that are there, in upload order
    media: Sequence[Media] = ()  # every file attached, whatever its state (get-post only)


def post_not_found() -> NotFoundError:
    return NotFoundError("Post group not found", code="POST_GROUP_NOT_FOUND")


async def create_post(
    session: AsyncSession, account_id: str, new: NewPost, now: datetime, *, strict: bool = True
) -> PostGroup:
    """Check, plan and store in one transaction, for callers whose posts are short. The API
    runs the three steps itself, so that planning never holds the write lock."""
    checked = await check_post(session, account_id, new, now, strict=strict)
    return await store_post(session, plan_post(checked), now)


async def check_post(
    session: AsyncSession, account_id: str, new: NewPost, now: datetime, *, strict: bool = True
) -> CheckedPost:
    """Everything that can refuse the post before its text is planned; reads only. `strict`
    refuses a time 5 minutes or more in the past instead of moving it to now."""
    state, scheduled_at, coerced = _initial_schedule(new, now, strict)
    settings = checked_settings(new.platform_settings)
    connections = await resolve_connections(session, account_id, new.platform_ids)
    platforms = [Platform(c.platform) for c in connections]
    if state is TargetState.SCHEDULED:  # only files named by URL can be attached yet
        check_schedulable(platforms, media_count=len(new.media_urls))
    notices = checked_comment(new.first_comment, platforms)
    return CheckedPost(
        account_id, new, state, scheduled_at, connections, coerced, settings, notices
    )


def checked_comment(
    comment: FirstComment | None, platforms: Iterable[Platform]
) -> list[CommentNotice]:
    """The first comment's warnings, or its 400 (publora-latest §5.5)."""
    if comment is None:
        return []
    try:
        return check_first_comment(comment, platforms)
    except FirstCommentError as exc:
        raise ValidationError(str(exc), code=exc.code, field=exc.field, **exc.extra) from exc


def check_schedulable(platforms: Iterable[Platform], media_count: int) -> None:
    """The scheduling gate (publora-latest §5.8): drafts skip it."""
    errors = scheduling_errors(platforms, media_count)
    if errors:
        raise ValidationError(
            "Validation failed", code="VALIDATION_FAILED", validation=validation_envelope(errors)
        )


def checked_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """platformSettings as stored, or the 400 that refuses them (nothing is stored)."""
    try:
        return validate_platform_settings(settings)
    except SettingTooLongError as exc:
        raise FieldTooLongError(exc.field, exc.limit, str(exc)) from exc
    except UnknownSettingError as exc:
        raise ValidationError(str(exc), code="PLATFORM_SETTING_UNKNOWN", field=exc.path) from exc
    except PlatformSettingsError as exc:
        raise ValidationError(str(exc), code="INVALID_PLATFORM_SETTINGS") from exc


def plan_post(checked: CheckedPost) -> PlannedPost:
    """The thread of each target; CPU only (no I/O), linear in the content, once per distinct
    rule (fifty sandbox connections share one plan)."""
    plans: dict[tuple[Platform, int | None], list[str]] = {}
    for connection in checked.connections:
        platform, limit = Platform(connection.platform), account_text_limit(connection)
        if (platform, limit) not in plans:
            plans[platform, limit] = plan_text(platform, checked.new.content, limit)
    return PlannedPost(
        checked,
        [list(plans[Platform(c.platform), account_text_limit(c)]) for c in checked.connections],
    )


def plan_text(platform: Platform, content: str, limit: int | None) -> list[str]:
    try:
        parts = plan_parts(platform, content, limit)
    except TextTooLongError as exc:
        raise ValidationError(
            str(exc), code="CONTENT_TOO_LONG", platform=platform.value, limit=exc.limit
        ) from exc
    if not parts:  # nothing but `---` separators: no text to publish
        raise ValidationError("Content is required", code="CONTENT_REQUIRED")
    return parts


async def store_post(session: AsyncSession, planned: PlannedPost, now: datetime) -> PostGroup:
    """The write: only inserts, and one query to see that no connection went away since the
    check."""
    checked = planned.checked
    ids = [c.id for c in checked.connections]
    present = await ConnectionStore(session).existing_ids(checked.account_id, ids)
    gone = [_public_id(c) for c in checked.connections if c.id not in present]
    if gone:
        raise invalid_platform_ids(gone)
    new = checked.new
    group = PostGroup(
        id=checked.group_id,
        account_id=checked.account_id,
        content=new.content,
        first_comment=new.first_comment.stored() if new.first_comment else None,
        platform_settings=checked.platform_settings,
        alt_texts=list(new.alt_texts),
        scheduled_at=checked.scheduled_at,
        created_at=now,
        updated_at=now,
    )
    group.targets = [
        new_target(connection, position, parts, checked.state, checked.scheduled_at, now)
        for position, (connection, parts) in enumerate(
            zip(checked.connections, planned.thread_parts, strict=True)
        )
    ]
    refresh_group_status(group)
    group.platform_bits = platform_bits(c.platform for c in checked.connections)
    stored = await PostStore(session).add(group)
    if stored.status == PostStatus.SCHEDULED:
        await post_scheduled(session, stored, now)
    return stored


def _initial_schedule(
    new: NewPost, now: datetime, strict: bool
) -> tuple[TargetState, datetime | None, CoercedTime | None]:
    """DESIGN §3.3: no time makes a draft, unless `status: "scheduled"` asks for now; a past
    time follows publora-latest §2.14.1. A draft keeps an optional time."""
    scheduled_at, coerced = new.scheduled_at, None
    if scheduled_at is not None:
        try:
            scheduled_at, coerced = effective_time(scheduled_at, now, strict=strict)
        except TimeInPastError as exc:
            server_time = format_timestamp(exc.now)
            raise ValidationError(
                f"Scheduled time is in the past. Server time is {server_time} UTC.",
                code="SCHEDULED_TIME_IN_PAST",
                serverTime=server_time,
            ) from exc
    if new.status == "draft" or (scheduled_at is None and new.status is None):
        return TargetState.DRAFT, scheduled_at, coerced
    return TargetState.SCHEDULED, scheduled_at or now, coerced


async def resolve_connections(
    session: AsyncSession, account_id: str, platform_ids: Sequence[str]
) -> list[Connection]:
    """One query for all of them: a query per id, thousands of ids, once held the write lock
    for half a minute."""
    wanted: list[tuple[str, tuple[str, str] | None]] = []
    for public_id in platform_ids:
        parts = split_platform_id(public_id)
        wanted.append((public_id, (parts[0].value, parts[1]) if parts else None))
    keys = {key for _, key in wanted if key is not None}
    found = await ConnectionStore(session).find_many(account_id, keys)
    invalid = [public_id for public_id, key in wanted if key is None or key not in found]
    if invalid:
        raise invalid_platform_ids(invalid)
    return [found[key] for _, key in wanted if key is not None]


def invalid_platform_ids(public_ids: list[str]) -> ValidationError:
    return ValidationError(
        "Invalid platform ID", code="INVALID_PLATFORM_ID", platformIds=public_ids
    )


def _public_id(connection: Connection) -> str:
    return platform_id(Platform(connection.platform), connection.external_id)


def account_text_limit(connection: Connection) -> int | None:
    """A Mastodon instance's own status limit, learnt when the account was connected; Publora's
    500 is the default and the floor (an instance never allows fewer in practice)."""
    if connection.platform != Platform.MASTODON.value:
        return None
    limit = (connection.options or {}).get("maxCharacters")
    return limit if isinstance(limit, int) and limit > text_rule(Platform.MASTODON).limit else None


def new_target(
    connection: Connection,
    position: int,
    parts: Sequence[str],
    state: TargetState,
    scheduled_at: datetime | None,
    now: datetime,
) -> PublishTarget:
    target_id = new_id()
    target = PublishTarget(
        id=target_id,
        idempotency_key=publish_key(target_id, 1),
        connection_id=connection.id,
        platform=connection.platform,
        external_account_id=connection.external_id,
        position=position,
        state=state.value,
        thread_parts=list(parts),
        updated_at=now,
    )
    set_due(target, state, scheduled_at)
    return target


def set_due(target: PublishTarget, state: TargetState, scheduled_at: datetime | None) -> None:
    if state is TargetState.SCHEDULED and scheduled_at is not None:
        target.due_at = scheduled_at
        target.expire_at = scheduled_at + EXPIRY_AFTER_DUE
    else:
        target.due_at = None
        target.expire_at = None


class TargetLike(Protocol):
    """A target as the status rules and answers read it: an ORM row, or a plain row of
    list-posts."""

    @property
    def platform(self) -> str: ...
    @property
    def external_account_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def sent_at(self) -> datetime | None: ...


class GroupLike(Protocol):
    @property
    def targets(self) -> Sequence[TargetLike]: ...


def current_status(group: GroupLike) -> PostStatus:
    """From the targets, always: the stored `status` is only refreshed on edits and when a
    target finishes, so it lags while the engine claims and sends (it is a filter index)."""
    return group_status(target_status(t) for t in group.targets)


def refresh_group_status(group: PostGroup) -> None:
    group.status = current_status(group).value


def target_status(target: TargetLike) -> PostStatus:
    return wire_status(TargetState(target.state), sent=target.sent_at is not None)


async def get_post(session: AsyncSession, account_id: str, group_id: str) -> PostDetails:
    group = await find_post(session, account_id, group_id)
    media = await PostStore(session).all_media_of(group.id)
    return PostDetails(group, [m.public_url for m in media if m.status == READY], media)


async def find_post(session: AsyncSession, account_id: str, group_id: str) -> PostGroup:
    """Unknown, foreign and malformed ids are all the same 404 (DESIGN §3.5). A malformed one
    never reaches the database, which may refuse its text (PostgreSQL and NUL)."""
    group = await PostStore(session).get(account_id, group_id) if is_id(group_id) else None
    if group is None:
        raise post_not_found()
    return group


_BEING_SENT = frozenset({PostStatus.PENDING, PostStatus.PROCESSING})
_MAYBE_LIVE = frozenset({TargetState.PUBLISHED, TargetState.OUTCOME_UNKNOWN})
PUBLISHED_NOT_DELETABLE = "Published posts cannot be deleted through this operation."
LIVE_NOT_DELETABLE = (
    "Posts with published or possibly published content cannot be deleted through this operation."
)


def _maybe_live(target: PublishTarget) -> bool:
    """Evidence that something of the target may be on its platform: a thread part that went
    out, an id or a publication time, or an outcome nobody could confirm."""
    return (
        TargetState(target.state) in _MAYBE_LIVE
        or bool(target.progress.get("partIds"))
        or target.external_id is not None
        or target.published_at is not None
    )


def _check_deletable(group: PostGroup) -> None:
    """publora-latest §2.18: a group goes only while nothing of it is, or may be, on a platform.
    A claim not yet past its send gate does not block (the delete wins, DESIGN §4)."""
    status = current_status(group)
    sending = status if status in _BEING_SENT else None
    sending = sending or next(
        (s for s in map(target_status, group.targets) if s is PostStatus.PROCESSING), None
    )
    if sending is not None:
        raise ConflictError(
            f"Cannot delete post: post is currently in {sending.value} status",
            code="POST_IS_PROCESSING",
        )
    if status is PostStatus.PUBLISHED:
        raise ConflictError(PUBLISHED_NOT_DELETABLE, code="POST_IS_PUBLISHED")
    if any(_maybe_live(t) for t in group.targets):
        raise ConflictError(LIVE_NOT_DELETABLE, code="POST_HAS_LIVE_CONTENT")


async def delete_post(session: AsyncSession, account_id: str, group_id: str) -> Sequence[str]:
    """Delete a group with its targets and media rows; returns the storage keys whose files the
    caller removes after commit (DESIGN §3.9)."""
    group = await find_post(session, account_id, group_id)
    _check_deletable(group)
    store = PostStore(session)
    keys = await store.storage_keys(group.id)
    await store.delete(group)
    return keys
