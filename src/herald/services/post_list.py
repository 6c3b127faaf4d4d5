"""list-posts: one page of an account's post groups with their targets and media URLs; and the
dashboard's calendar: the groups scheduled in a time range."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import PostGroup
from herald.services.post import PostDetails
from herald.store.post import PostListQuery, PostStore
from herald.store.post_list import PostListReader
from herald.store.post_rows import ListedGroup, listed_groups

# A calendar page: a month of a busy account holds tens of thousands of posts, so the calendar
# reads them in pages of at most this many, by time.
CALENDAR_LIMIT = 200


@dataclass(frozen=True)
class ListEntry:
    group: ListedGroup
    media_urls: Sequence[str]  # the files that are there, in upload order


@dataclass(frozen=True)
class PostPage:
    posts: Sequence[ListEntry]
    page: int
    limit: int
    total: int

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.limit)


@dataclass(frozen=True)
class CalendarPage:
    posts: Sequence[PostDetails]
    # Pass as `after` for the next page; None when the range has no more posts.
    next_after: tuple[datetime, str] | None


async def list_posts(session: AsyncSession, query: PostListQuery) -> PostPage:
    ids, total = await PostStore(session).list_page_ids(query)
    groups = await listed_groups(session, ids)
    urls = await _media_urls(session, ids)
    posts = [ListEntry(group, urls[group.id]) for group in groups]
    return PostPage(posts=posts, page=query.page, limit=query.limit, total=total)


async def calendar_range(
    session: AsyncSession,
    account_id: str,
    start: datetime,
    end: datetime,
    *,
    limit: int = CALENDAR_LIMIT,
    after: tuple[datetime, str] | None = None,
) -> CalendarPage:
    """The groups scheduled in [start, end), earliest first (ties by id), `limit` at a time;
    undated drafts are never in a range."""
    limit = max(1, min(limit, CALENDAR_LIMIT))
    reader = PostListReader(session)
    ids = await reader.calendar_ids(account_id, start, end, limit + 1, after)
    groups = await reader.groups(ids[:limit])
    last = groups[-1] if len(ids) > limit else None
    next_after = (last.scheduled_at, last.id) if last and last.scheduled_at else None
    return CalendarPage(await _with_media(session, groups), next_after)


async def _with_media(session: AsyncSession, groups: Sequence[PostGroup]) -> list[PostDetails]:
    urls = await _media_urls(session, [g.id for g in groups])
    return [PostDetails(group, urls[group.id]) for group in groups]


async def _media_urls(session: AsyncSession, group_ids: Sequence[str]) -> dict[str, list[str]]:
    urls: dict[str, list[str]] = defaultdict(list)
    for media in await PostStore(session).media_for(group_ids):
        urls[media.post_group_id].append(media.public_url)
    return urls
