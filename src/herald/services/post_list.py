"""list-posts: one page of an account's post groups with their targets and media URLs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from herald.services.post import PostDetails
from herald.store.post import PostListQuery, PostStore


@dataclass(frozen=True)
class PostPage:
    posts: Sequence[PostDetails]
    page: int
    limit: int
    total: int

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.limit)


async def list_posts(session: AsyncSession, query: PostListQuery) -> PostPage:
    store = PostStore(session)
    groups, total = await store.list_page(query)
    urls: dict[str, list[str]] = defaultdict(list)
    for media in await store.media_for([g.id for g in groups]):
        urls[media.post_group_id].append(media.public_url)
    posts = [PostDetails(group, urls[group.id]) for group in groups]
    return PostPage(posts=posts, page=query.page, limit=query.limit, total=total)
