"""What a claimed target needs to be published: its connection and its group's settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Connection, PostGroup


@dataclass(frozen=True)
class ConnectionContext:
    id: str
    options: dict[str, Any]
    sealed_credentials: bytes | None


@dataclass(frozen=True)
class GroupContext:
    platform_settings: dict[str, Any]
    alt_texts: list[str]


class PublishContextStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def connections(self, ids: Iterable[str]) -> dict[str, ConnectionContext]:
        wanted = set(ids)
        if not wanted:
            return {}
        query = select(Connection.id, Connection.options, Connection.credentials).where(
            Connection.id.in_(wanted)
        )
        return {
            row.id: ConnectionContext(row.id, row.options or {}, row.credentials)
            for row in await self._session.execute(query)
        }

    async def groups(self, ids: Iterable[str]) -> dict[str, GroupContext]:
        wanted = set(ids)
        if not wanted:
            return {}
        query = select(PostGroup.id, PostGroup.platform_settings, PostGroup.alt_texts).where(
            PostGroup.id.in_(wanted)
        )
        return {
            row.id: GroupContext(row.platform_settings or {}, list(row.alt_texts or []))
            for row in await self._session.execute(query)
        }
