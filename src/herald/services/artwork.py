"""upload-youtube-thumbnail and upload-instagram-cover (publora-latest §2.7, §2.8): an image
checked against the rule, stored beside the post group (never as one of its media), and
answered with the id and URL that platformSettings then name. The YouTube and Meta connectors
read them from `post_artwork` when they publish."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.artwork import ArtworkRule
from herald.domain.ids import is_id, new_id
from herald.domain.post_state import PostStatus
from herald.errors import ConflictError, ValidationError
from herald.media.processing import image_info, image_to_jpeg
from herald.models import PostArtwork, PostGroup
from herald.services.post import current_status, find_post
from herald.store.artwork import ArtworkStore

_BEING_SENT = frozenset({PostStatus.PENDING, PostStatus.PROCESSING})
_EDITABLE = frozenset({PostStatus.DRAFT, PostStatus.SCHEDULED})
_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def check_group_id(rule: ArtworkRule, raw: object) -> str:
    del rule  # the same words for both uploads
    if not isinstance(raw, str) or not raw:
        raise ValidationError("postGroupId is required", code="POST_GROUP_ID_REQUIRED")
    if not is_id(raw):
        raise ValidationError("Invalid postGroupId", code="INVALID_POST_GROUP_ID")
    return raw


def prepare(rule: ArtworkRule, data: bytes) -> PreparedImage:
    """Checks (and for covers converts) the image; CPU only, run off the event loop."""
    if not data:
        raise ValidationError(f"{rule.field} file is required", code="FILE_REQUIRED")
    if len(data) > rule.max_bytes:
        raise ValidationError(rule.too_large, code="FILE_TOO_LARGE")
    try:
        info = image_info(data)
    except ValueError:
        raise ValidationError(rule.bad_type, code="UNSUPPORTED_IMAGE_TYPE") from None
    if info.format not in rule.formats:
        raise ValidationError(rule.bad_type, code="UNSUPPORTED_IMAGE_TYPE")
    if rule.min_size and (info.width < rule.min_size[0] or info.height < rule.min_size[1]):
        raise ValidationError(rule.too_small or rule.bad_type, code="IMAGE_TOO_SMALL")
    if rule.too_large_after_conversion is not None and info.format != "JPEG":
        try:
            data = image_to_jpeg(data)
        except ValueError:
            raise ValidationError(rule.bad_type, code="UNSUPPORTED_IMAGE_TYPE") from None
        if len(data) > rule.max_bytes:
            raise ValidationError(rule.too_large_after_conversion, code="FILE_TOO_LARGE")
        return PreparedImage(data, "image/jpeg", "jpg", info.width, info.height)
    content_type, extension = _TYPES[info.format]
    return PreparedImage(data, content_type, extension, info.width, info.height)


async def editable_group(
    session: AsyncSession, account_id: str, group_id: str, rule: ArtworkRule
) -> PostGroup:
    group = await find_post(session, account_id, group_id)
    status = current_status(group)
    if status in _BEING_SENT:
        raise ConflictError(
            f"Post group is currently being published; cannot upload {rule.label}. "
            "Retry once publishing completes.",
            code="POST_PUBLISH_IN_PROGRESS",
        )
    if status not in _EDITABLE:
        raise ValidationError(
            f"Cannot upload {rule.label} for a non-editable post", code="POST_NOT_EDITABLE"
        )
    return group


def storage_key(group_id: str, rule: ArtworkRule, image: PreparedImage) -> tuple[str, str]:
    """The artwork's id and key; the key carries 128 random bits (file URLs are capabilities)."""
    artwork_id = new_id()
    token = secrets.token_hex(16)
    name = f"{rule.file_name}.{image.extension}"
    return artwork_id, f"{group_id}/artwork/{artwork_id}/{token}/{name}"


async def record(
    session: AsyncSession,
    group: PostGroup,
    rule: ArtworkRule,
    image: PreparedImage,
    artwork_id: str,
    key: str,
    url: str,
    now: datetime,
) -> PostArtwork:
    return await ArtworkStore(session).add(
        PostArtwork(
            id=artwork_id,
            post_group_id=group.id,
            purpose=rule.purpose,
            content_type=image.content_type,
            size=len(image.data),
            width=image.width,
            height=image.height,
            storage_key=key,
            public_url=url,
            created_at=now,
        )
    )
