"""Response shapes of the post endpoints: the documented fields plus DESIGN §3.7's superset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from herald.api.schemas.base import WireModel, omitted_when_none
from herald.api.schemas.connection import optional_timestamp
from herald.domain.first_comment import CommentNotice, from_stored
from herald.domain.past_time import CoercedTime
from herald.domain.platform import Platform, platform_id
from herald.domain.post_state import PostStatus
from herald.domain.timestamps import format_timestamp
from herald.models import Media, PostGroup, PublishTarget
from herald.services.first_comment import comment_state
from herald.services.post import READY, PostDetails, TargetLike, current_status, target_status
from herald.services.post_list import ListEntry, PostPage


class CreatedTarget(WireModel):
    platform: str
    platform_id: str
    status: str


class PostWarning(WireModel):
    """A notice on a request that succeeded (publora-latest §2.0); match on `code`."""

    code: str
    message: str
    requested: str | None = omitted_when_none("SCHEDULED_TIME_COERCED: the time sent")
    effective: str | None = omitted_when_none("SCHEDULED_TIME_COERCED: the time stored")
    platforms: list[str] | None = omitted_when_none("FIRST_COMMENT_*: the platforms concerned")


class MediaResult(WireModel):
    """One `mediaUrls` entry's result (publora-latest §5.7)."""

    url: str
    ok: bool
    media_id: str | None = omitted_when_none("The attached file's id")
    type: str | None = omitted_when_none("image | video")
    mime_type: str | None = omitted_when_none("Detected from the file's bytes")
    size: int | None = omitted_when_none("Bytes")
    file_url: str | None = omitted_when_none("Where the stored file is served")
    code: str | None = omitted_when_none("Sent on a failed URL")
    error: str | None = omitted_when_none("Sent on a failed URL")


class CreatePostResponse(WireModel):
    success: bool = True
    post_group_id: str
    scheduled_time: str | None = Field(description="The time stored; null for a draft")
    warnings: list[PostWarning] | None = omitted_when_none("Sent only when one applies")
    media: list[MediaResult] | None = omitted_when_none("Sent only when mediaUrls was")
    posts: list[CreatedTarget]


class ThreadPart(WireModel):
    index: int  # zero-based (publora-latest §2.16); the " [i/N]" markers count from 1
    content: str
    status: str  # pending | published | failed
    published_id: str | None
    # Herald's addition: where the platform shows this part, once published and known.
    published_url: str | None = Field(
        default=None, description="Herald: the part's URL on the platform, null until known"
    )


class PostError(WireModel):
    """Why a post failed (publora-latest §2.16); `code` is one of Herald's (see Publishing)."""

    code: str | None
    message: str | None
    platform_error: str | None
    failed_at: str
    retryable: bool


class CommentError(WireModel):
    code: str
    message: str
    platform_status_code: int | None = None
    outcome_unknown: bool = False


class FirstCommentResult(WireModel):
    status: str  # pending | posted | failed | skipped
    comment_id: str | None = None
    skip_reason: str | None = None
    error: CommentError | None = None
    attempted_at: str | None = None
    posted_at: str | None = None


class FirstCommentRead(WireModel):
    text: str
    platforms: list[str] | None = omitted_when_none("Omitted: every supported target")


class PostRead(WireModel):
    id: str = Field(alias="_id")
    platform: str
    platform_id: str  # the bare account id, as EP/get-post shows it
    platform_connection_id: str  # the same with its platform prefix, as used in create-post
    content: str
    status: str
    posted_id: str | None = Field(description="The platform's post id; null until published")
    permalink: str | None
    is_thread: bool
    thread_parts: list[ThreadPart]
    first_comment_result: FirstCommentResult | None = Field(
        description="null when no first comment applies or the post is not published yet"
    )
    error: PostError | None = omitted_when_none("Sent only for a failed post")
    published_url: str | None  # = permalink, the name Herald used first
    published_at: str | None
    error_message: str | None  # = error.message, as a string
    error_code: str | None  # = error.code


class MediaRead(WireModel):
    media_id: str
    source_file_name: str | None
    file_name: str | None
    type: str | None
    mime_type: str | None
    status: str
    failure_reason: str | None = None
    url: str | None


class GetPostResponse(WireModel):
    success: bool = True
    post_group_id: str
    status: str
    scheduled_time: str | None
    platforms: list[str]
    platform_settings: dict[str, Any]
    first_comment: FirstCommentRead | None
    media: list[MediaRead]
    content: str
    created_at: str
    updated_at: str
    media_urls: list[str]
    posts: list[PostRead]


class ListedPlatform(WireModel):
    platform_id: str
    platform: str
    status: str


class ListedPost(WireModel):
    post_group_id: str
    content: str
    status: str
    # Publora's list-posts types it as a date-time, never null: a draft without one omits it.
    scheduled_time: str | None = omitted_when_none("Sent only when the group has a time")
    created_at: str
    updated_at: str
    platforms: list[ListedPlatform]
    media_urls: list[str]


class Pagination(WireModel):
    page: int
    limit: int
    total_items: int
    total_pages: int
    has_next_page: bool
    has_prev_page: bool


class ListPostsResponse(WireModel):
    success: bool = True
    posts: list[ListedPost]
    pagination: Pagination


class UpdatedGroup(WireModel):
    id: str = Field(alias="_id")
    status: str
    scheduled_time: str | None = omitted_when_none("Sent only when the group has a time")


class UpdatePostResponse(WireModel):
    success: bool = True
    message: str = "Post updated successfully"
    post_group: UpdatedGroup
    warnings: list[PostWarning] | None = omitted_when_none("Sent only when one applies")
    media: list[MediaResult] | None = omitted_when_none("Sent only when mediaUrls was")


def _connection_id(target: TargetLike) -> str:
    return platform_id(Platform(target.platform), target.external_account_id)


def _coerced_warning(coerced: CoercedTime) -> PostWarning:
    requested, effective = format_timestamp(coerced.requested), format_timestamp(coerced.effective)
    return PostWarning(
        code="SCHEDULED_TIME_COERCED",
        message=f"Requested scheduled time {requested} was in the past and was changed to "
        f"server time {effective}.",
        requested=requested,
        effective=effective,
    )


def _warnings(
    coerced: CoercedTime | None, notices: Sequence[CommentNotice]
) -> list[PostWarning] | None:
    warnings = [_coerced_warning(coerced)] if coerced else []
    warnings += [
        PostWarning(code=n.code, message=n.message, platforms=list(n.platforms)) for n in notices
    ]
    return warnings or None


def _media_results(results: Sequence[dict[str, Any]] | None) -> list[MediaResult] | None:
    return None if results is None else [MediaResult.model_validate(r) for r in results]


def create_post_response(
    group: PostGroup,
    coerced: CoercedTime | None,
    notices: Sequence[CommentNotice] = (),
    media: Sequence[dict[str, Any]] | None = None,
) -> CreatePostResponse:
    return CreatePostResponse(
        post_group_id=group.id,
        scheduled_time=optional_timestamp(group.scheduled_at),
        warnings=_warnings(coerced, notices),
        media=_media_results(media),
        posts=[
            CreatedTarget(
                platform=t.platform,
                platform_id=_connection_id(t),
                status=target_status(t).value,
            )
            for t in group.targets
        ],
    )


def _thread_parts(target: PublishTarget, status: PostStatus) -> list[ThreadPart]:
    """The post id is the first part's (§2.16), and a published post has every part out."""
    posted = list(target.progress.get("partIds", [])) or [target.external_id]
    urls = list(target.progress.get("partUrls", [])) or [target.external_url]
    unsent = "failed" if status is PostStatus.FAILED else "pending"
    parts = []
    for index, text in enumerate(target.thread_parts):
        published_id = posted[index] if index < len(posted) else None
        out = published_id is not None or status is PostStatus.PUBLISHED
        parts.append(
            ThreadPart(
                index=index,
                content=text,
                status="published" if out else unsent,
                published_id=published_id,
                published_url=urls[index] if index < len(urls) else None,
            )
        )
    return parts


# Failures that another attempt may get past: the platform kept failing for a while, or Herald did.
_RETRYABLE = frozenset({"PUBLISH_RETRIES_EXHAUSTED", "ENGINE_ERROR"})


def _post_error(target: PublishTarget) -> PostError:
    return PostError(
        code=target.last_error_code,
        message=target.last_error,
        platform_error=target.last_error,
        failed_at=format_timestamp(target.updated_at),
        retryable=target.last_error_code in _RETRYABLE,
    )


def post_read(group: PostGroup, target: PublishTarget) -> PostRead:
    status = target_status(target)
    failed = status is PostStatus.FAILED
    return PostRead(
        id=target.id,
        platform=target.platform,
        platform_id=target.external_account_id,
        platform_connection_id=_connection_id(target),
        content=group.content,
        status=status.value,
        posted_id=target.external_id,
        permalink=target.external_url,
        is_thread=len(target.thread_parts) > 1,
        thread_parts=_thread_parts(target, status),
        first_comment_result=first_comment_result(group, target, status),
        error=_post_error(target) if failed else None,
        published_url=target.external_url,
        published_at=optional_timestamp(target.published_at),
        error_message=target.last_error if failed else None,
        error_code=target.last_error_code if failed else None,
    )


def _media_read(media: Media) -> MediaRead:
    return MediaRead(
        media_id=media.id,
        source_file_name=media.file_name,
        file_name=media.file_name,
        type=media.kind,
        mime_type=media.content_type,
        status=media.status,
        url=media.public_url if media.status == READY else None,
    )


def get_post_response(details: PostDetails) -> GetPostResponse:
    group = details.group
    return GetPostResponse(
        post_group_id=group.id,
        status=current_status(group).value,
        scheduled_time=optional_timestamp(group.scheduled_at),
        platforms=[_connection_id(t) for t in group.targets],
        platform_settings=group.platform_settings or {},
        first_comment=_first_comment_read(group),
        media=[_media_read(m) for m in details.media],
        content=group.content,
        created_at=format_timestamp(group.created_at),
        updated_at=format_timestamp(group.updated_at),
        media_urls=list(details.media_urls),
        posts=[post_read(group, t) for t in group.targets],
    )


def _listed_post(entry: ListEntry) -> ListedPost:
    group = entry.group
    return ListedPost(
        post_group_id=group.id,
        content=group.content,
        status=current_status(group).value,
        scheduled_time=optional_timestamp(group.scheduled_at),
        created_at=format_timestamp(group.created_at),
        updated_at=format_timestamp(group.updated_at),
        platforms=[
            ListedPlatform(
                platform_id=_connection_id(t), platform=t.platform, status=target_status(t).value
            )
            for t in group.targets
        ],
        media_urls=list(entry.media_urls),
    )


def list_posts_response(page: PostPage) -> ListPostsResponse:
    return ListPostsResponse(
        posts=[_listed_post(p) for p in page.posts],
        pagination=Pagination(
            page=page.page,
            limit=page.limit,
            total_items=page.total,
            total_pages=page.total_pages,
            has_next_page=page.page < page.total_pages,
            has_prev_page=page.page > 1,
        ),
    )


def update_post_response(
    group: PostGroup,
    notices: Sequence[CommentNotice] = (),
    media: Sequence[dict[str, Any]] | None = None,
) -> UpdatePostResponse:
    """The seed's shape; `warnings` and `media` only when the request made them apply."""
    return UpdatePostResponse(
        post_group=UpdatedGroup(
            id=group.id,
            status=current_status(group).value,
            scheduled_time=optional_timestamp(group.scheduled_at),
        ),
        warnings=_warnings(None, notices),
        media=_media_results(media),
    )


def _first_comment_read(group: PostGroup) -> FirstCommentRead | None:
    comment = from_stored(group.first_comment)
    if comment is None:
        return None
    return FirstCommentRead(text=comment.text, platforms=list(comment.platforms) or None)


def first_comment_result(
    group: PostGroup, target: PublishTarget, status: PostStatus
) -> FirstCommentResult | None:
    state = comment_state(from_stored(group.first_comment), target, status is PostStatus.PUBLISHED)
    return None if state is None else FirstCommentResult.model_validate(state)
