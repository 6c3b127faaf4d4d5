"""complete-media and DELETE /media/:mediaId (publora-latest §2.9): one uploaded file (or a
thumbnail or cover) looked at or removed by its id, only by the owner of its post group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.ids import is_id
from herald.domain.post_state import PostStatus, TargetState, transition
from herald.domain.publishing import publish_key
from herald.errors import ConflictError, NotFoundError, ValidationError
from herald.media.base import StoredFile
from herald.models import Media, PostArtwork, PostGroup
from herald.services.post import current_status, refresh_group_status, set_due
from herald.store.artwork import ArtworkStore
from herald.store.media import MediaRecordStore
from herald.store.post import PostStore
from herald.store.webhook_events import post_demoted

_BEING_SENT = frozenset({PostStatus.PENDING, PostStatus.PROCESSING})
_FINISHED = frozenset({PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.PARTIALLY_PUBLISHED})
DEMOTED_MESSAGE = (
    "The post was scheduled and its media changed, so it is a draft again: schedule it with "
    "update-post"
)
# Herald's media states as Publora's media[].status names them.
_WIRE_STATUS = {"awaiting_upload": "uploading", "ready": "ready"}


def media_file_not_found() -> NotFoundError:
    return NotFoundError("Media file not found", code="MEDIA_FILE_NOT_FOUND")


def wire_status(status: str) -> str:
    return _WIRE_STATUS.get(status, "failed")


async def find_media(session: AsyncSession, account_id: str, media_id: str) -> Media:
    """The account's media file; a malformed, unknown or foreign id is the same 404."""
    media = None
    if is_id(media_id):
        query = (
            select(Media)
            .join(PostGroup, PostGroup.id == Media.post_group_id)
            .where(Media.id == media_id, PostGroup.account_id == account_id)
        )
        media = await session.scalar(query)
    if media is None:
        raise media_file_not_found()
    return media


async def settle_upload(
    session: AsyncSession, account_id: str, media_id: str, stored: StoredFile | None, cap: int
) -> Media:
    """complete-media's write: what storage holds decides `ready` or `failed`; a file already
    settled stays as it is (the call may come twice)."""
    media = await find_media(session, account_id, media_id)
    if media.status != "awaiting_upload":
        return media
    if stored is None:
        # Nothing to probe yet: still uploading (Publora answers 503 PROBE_DOWNLOAD_FAILED; a
        # 5xx would tell the client Herald failed, when the upload simply has not arrived).
        return media
    records = MediaRecordStore(session)
    if stored.size > cap:
        await records.mark_too_large([media.id])
    else:
        await records.mark_ready([media.id], {media.id: stored.size})
    await session.refresh(media)
    return media


def media_file(media: Media) -> dict[str, Any]:
    ready = media.status == "ready"
    return {
        "_id": media.id,
        "type": media.kind,
        "mimeType": media.content_type,
        "fileName": media.file_name,
        "url": media.public_url if ready else None,
        "status": wire_status(media.status),
        "metadata": {"size": media.size} if media.size is not None else {},
    }


@dataclass(frozen=True)
class Removal:
    storage_key: str
    answer: dict[str, Any]


async def delete_media(
    session: AsyncSession, account_id: str, media_id: str, now: datetime
) -> Removal:
    """Remove a media file or an artwork row; the file goes after the commit (the caller's)."""
    if not is_id(media_id):
        raise media_file_not_found()
    media = await _owned_media(session, account_id, media_id)
    if media is not None:
        return await _delete_media(session, media, now)
    artwork = await ArtworkStore(session).find(account_id, media_id)
    if artwork is None:
        raise media_file_not_found()
    return await _delete_artwork(session, artwork, now)


async def _owned_media(session: AsyncSession, account_id: str, media_id: str) -> Media | None:
    try:
        return await find_media(session, account_id, media_id)
    except NotFoundError:
        return None


async def _editable_group(session: AsyncSession, group_id: str) -> PostGroup:
    group = await PostStore(session).get_by_id(group_id)
    if group is None:
        raise media_file_not_found()
    status = current_status(group)
    if status in _BEING_SENT:
        raise ConflictError(
            "Publishing has already started; media cannot be changed",
            code="POST_PUBLISH_IN_PROGRESS",
        )
    if status in _FINISHED:
        raise ValidationError(
            "Cannot delete media of a published or failed post", code="POST_NOT_EDITABLE"
        )
    return group


async def _delete_media(session: AsyncSession, media: Media, now: datetime) -> Removal:
    group = await _editable_group(session, media.post_group_id)
    key = media.storage_key
    await MediaRecordStore(session).remove([media.id])
    answer: dict[str, Any] = {"success": True}
    if current_status(group) == PostStatus.SCHEDULED:
        _demote(group, now)
        await session.flush()
        await post_demoted(session, group, media.id, "detach", now)
        answer |= {"postGroupDemoted": True, "message": DEMOTED_MESSAGE}
    return Removal(key, answer)


def _demote(group: PostGroup, now: datetime) -> None:
    """Scheduled targets back to draft; the fencing token moves, as with any edit."""
    group.updated_at = now
    group.version += 1
    for target in group.targets:
        if target.state != TargetState.SCHEDULED:
            continue
        target.state = transition(TargetState.SCHEDULED, TargetState.DRAFT).value
        set_due(target, TargetState.DRAFT, None)
        target.version += 1
        target.idempotency_key = publish_key(target.id, target.version)
        target.claim_token += 1
        target.updated_at = now
    refresh_group_status(group)


async def _delete_artwork(session: AsyncSession, artwork: PostArtwork, now: datetime) -> Removal:
    group = await _editable_group(session, artwork.post_group_id)
    settings = {name: dict(values) for name, values in group.platform_settings.items()}
    answer: dict[str, Any] = {"success": True}
    youtube, instagram = settings.get("youtube", {}), settings.get("instagram", {})
    thumbnail = youtube.get("thumbnail")
    if isinstance(thumbnail, dict) and thumbnail.get("mediaId") == artwork.id:
        del youtube["thumbnail"]
        answer["thumbnailCleared"] = True
    if instagram.get("coverUrl") == artwork.public_url:
        del instagram["coverUrl"]
        answer["coverCleared"] = True
    if len(answer) > 1:
        group.platform_settings = settings
        group.updated_at = now
    key = artwork.storage_key
    await ArtworkStore(session).delete(artwork)
    return Removal(key, answer)
