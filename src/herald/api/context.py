"""What every request needs from the running app: settings, database, limiter, secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db.engine import unit_of_work
from herald.engine.dispatcher import Engine
from herald.media.base import MediaStore
from herald.services.rate_limit import RateLimiter
from herald.services.secret_box import SecretBox


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    rate_limiter: RateLimiter
    secret_box: SecretBox
    media_store: MediaStore
    publisher: Engine | None = None  # the publishing engine, when it runs in this process

    def wake_publisher(self) -> None:
        """After a write that may make a post due sooner; other processes poll every second."""
        if self.publisher is not None:
            self.publisher.wake()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """Committed before the route returns, so a client never reads ahead of its own write."""
        async with unit_of_work(self.sessions, write=write) as session:
            yield session
