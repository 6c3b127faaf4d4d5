"""What a claimed target needs to be published: its connection and its group's settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db.engine import execute_plain
from herald.models import Connection, Media, PostArtwork, PostGroup


@dataclass(frozen=True)
class ConnectionContext:
    id: str
    options: dict[str, Any]
    sealed_credentials: bytes | None
    account_id: str = ""


@dataclass(frozen=True)
class MediaContext:
    id: str
    kind: str
    content_type: str
    storage_key: str
    public_url: str
    ready: bool
    size: int | None = None  # bytes, once the upload is known to have arrived
    too_large: bool = False  # passed the upload cap; the file was deleted


@dataclass(frozen=True)
class GroupContext:
    platform_settings: dict[str, Any]
    alt_texts: list[str]
    media: list[MediaContext]
    scheduled_at: datetime | None  # the time the user asked for (due_at moves on retries)
    first_comment: dict[str, Any] | None = None  # as stored (publora-latest §5.5)
    # Thumbnails and covers by id (upload-youtube-thumbnail), which platformSettings name.
    artwork: dict[str, MediaContext] = field(default_factory=dict)


class PublishContextStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def connections(self, ids: Iterable[str]) -> dict[str, ConnectionContext]:
        wanted = set(ids)
        if not wanted:
            return {}
        query = select(
            Connection.id, Connection.options, Connection.credentials, Connection.account_id
        ).where(Connection.id.in_(wanted))
        return {
            row.id: ConnectionContext(row.id, row.options or {}, row.credentials, row.account_id)
            for row in await execute_plain(self._session, query)
        }

    async def groups(self, ids: Iterable[str]) -> dict[str, GroupContext]:
        wanted = set(ids)
        if not wanted:
            return {}
        query = select(
            PostGroup.id,
            PostGroup.platform_settings,
            PostGroup.alt_texts,
            PostGroup.scheduled_at,
            PostGroup.first_comment,
        ).where(PostGroup.id.in_(wanted))
        media = await self._media(wanted)
        artwork = await self._artwork(wanted)
        return {
            row.id: GroupContext(
                row.platform_settings or {},
                list(row.alt_texts or []),
                media.get(row.id, []),
                row.scheduled_at,
                row.first_comment,
                artwork.get(row.id, {}),
            )
            for row in await execute_plain(self._session, query)
        }

    async def _media(self, group_ids: set[str]) -> dict[str, list[MediaContext]]:
        query = (
            select(Media)
            .where(Media.post_group_id.in_(group_ids))
            .order_by(Media.position, Media.id)
        )
        found: dict[str, list[MediaContext]] = {}
        for media in await self._session.scalars(query):
            found.setdefault(media.post_group_id, []).append(
                MediaContext(
                    media.id,
                    media.kind,
                    media.content_type,
                    media.storage_key,
                    media.public_url,
                    media.status == "ready",
                    media.size,
                    media.status == "too_large",
                )
            )
        return found

    async def _artwork(self, group_ids: set[str]) -> dict[str, dict[str, MediaContext]]:
        query = select(PostArtwork).where(PostArtwork.post_group_id.in_(group_ids))
        found: dict[str, dict[str, MediaContext]] = {}
        for art in await self._session.scalars(query):
            found.setdefault(art.post_group_id, {})[art.id] = MediaContext(
                art.id,
                "image",
                art.content_type,
                art.storage_key,
                art.public_url,
                True,
                art.size,
            )
        return found
