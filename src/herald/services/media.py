"""Media of post groups: upload URLs, finished uploads, clean-up (publora-spec §2.7, DESIGN §6)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.ids import new_id
from herald.domain.media_rules import AttachedMedia, MediaRuleError, check_attachments
from herald.domain.platform import Platform
from herald.domain.post_state import PostStatus
from herald.errors import NotFoundError, ValidationError
from herald.media.base import UPLOAD_URL_LIFETIME, MediaStore, UploadTicket
from herald.models import Media, PostGroup
from herald.platforms.base import RejectedError
from herald.platforms.telegram.sending import CAPTION_LIMIT, check_caption
from herald.services.post import current_status, find_post
from herald.services.public_media import check_public_media
from herald.store.media import MediaRecordStore

logger = logging.getLogger("herald.media")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_BEING_SENT = frozenset({PostStatus.PENDING, PostStatus.PROCESSING})
_FINISHED = frozenset({PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.PARTIALLY_PUBLISHED})
# File URLs need no key (platforms fetch them), so they are capabilities: 128 random bits in
# the path make them unguessable, even knowing the group and media ids.
FILE_URL_TOKEN_BYTES = 16


@dataclass(frozen=True)
class UploadRequest:
    post_group_id: str
    file_name: str
    content_type: str  # one of the accepted types, lower case
    kind: str  # image | video
    # The Content-Type the client will PUT: its own spelling of `content_type`, since S3 compares
    # a signed header byte for byte.
    put_type: str


def media_not_found() -> NotFoundError:
    return NotFoundError("Media not found", code="MEDIA_NOT_FOUND")


def safe_file_name(name: str) -> str:
    """Keep a readable, harmless name in the storage key; the original stays in the row."""
    cleaned = _UNSAFE_NAME.sub("-", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(".-")
    return cleaned[:100] or "file"


def attached(media: Sequence[Media]) -> list[AttachedMedia]:
    return [AttachedMedia(m.kind, m.content_type) for m in media]


async def request_upload(
    session: AsyncSession, store: MediaStore, account_id: str, request: UploadRequest, now: datetime
) -> tuple[Media, UploadTicket]:
    """Attach a file to a group that is not yet being sent, checked against every target
    platform's media rules, and hand out a URL to PUT it to."""
    group = await find_post(session, account_id, request.post_group_id)
    _check_group_open(current_status(group))
    records = MediaRecordStore(session)
    existing = await records.for_group(group.id)
    check_rules(group, [*attached(existing), AttachedMedia(request.kind, request.content_type)])
    media_id = new_id()
    token = secrets.token_hex(FILE_URL_TOKEN_BYTES)
    key = f"{group.id}/{media_id}/{token}/{safe_file_name(request.file_name)}"
    check_public_media(_platforms(group), [store.public_url(key)], store.reachable_networks)
    ticket = await store.presign_upload(key, request.put_type, now + UPLOAD_URL_LIFETIME)
    media = Media(
        id=media_id,
        post_group_id=group.id,
        kind=request.kind,
        content_type=request.content_type,
        file_name=request.file_name,
        storage_key=key,
        public_url=ticket.file_url,
        status="awaiting_upload",
        upload_expires_at=ticket.expires_at,
        position=len(existing),
        created_at=now,
    )
    return await records.add(media), ticket


def _platforms(group: PostGroup) -> list[Platform]:
    return [Platform(t.platform) for t in group.targets]


def _check_group_open(status: PostStatus) -> None:
    if status in _BEING_SENT:
        raise ValidationError(
            "Cannot upload media: post is currently in processing status", code="POST_IN_PROGRESS"
        )
    if status in _FINISHED:
        raise ValidationError(
            "Cannot upload media to published or failed posts", code="POST_NOT_EDITABLE"
        )


def check_rules(group: PostGroup, media: list[AttachedMedia]) -> None:
    try:
        for platform in sorted({t.platform for t in group.targets}):
            check_attachments(Platform(platform), media)
    except MediaRuleError as exc:
        raise ValidationError(str(exc), code="MEDIA_NOT_ACCEPTED") from exc
    _check_captions(group)


def _check_captions(group: PostGroup) -> None:
    """With media, a post's first part becomes a caption, and Telegram's are shorter than its
    messages (1,024 against 4,096). Say so when the file is attached, not at publishing time."""
    settings = group.platform_settings.get(Platform.TELEGRAM.value, {})
    for target in group.targets:
        if target.platform != Platform.TELEGRAM.value or not target.thread_parts:
            continue
        try:
            check_caption(target.thread_parts[0], settings)
        except RejectedError as exc:
            raise ValidationError(
                f"{exc.message}. Shorten the text to attach media, or post it without media",
                code="CAPTION_TOO_LONG",
                platform=Platform.TELEGRAM.value,
                limit=CAPTION_LIMIT,
            ) from exc


async def awaiting_upload(session: AsyncSession, storage_key: str) -> Media:
    """The row a local upload PUT is for; 404 once its group is gone or it is complete."""
    media = await MediaRecordStore(session).by_key(storage_key)
    if media is None or media.status != "awaiting_upload":
        raise media_not_found()
    return media


async def complete_upload(session: AsyncSession, storage_key: str, size: int) -> bool:
    """False if the group was deleted while the bytes were arriving."""
    media = await MediaRecordStore(session).by_key(storage_key)
    if media is None:
        return False
    await MediaRecordStore(session).mark_ready([media.id], {media.id: size})
    return True


async def delete_files(store: MediaStore, keys: Sequence[str]) -> None:
    """After the rows' transaction committed: best effort, a failure is only logged."""
    for key in keys:
        try:
            await store.delete(key)
        except Exception as exc:
            logger.warning("media.delete.failed key=%s error=%s", key, type(exc).__name__)
