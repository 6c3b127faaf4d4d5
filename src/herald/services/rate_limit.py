"""Per-account API rate limit: a fixed 60 s window (DESIGN §3.12)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.db.engine import unit_of_work
from herald.store.rate_limit import RateLimitStore

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateDecision:
    limit: int
    remaining: int
    reset_at: int  # Unix seconds when the window ends
    allowed: bool

    def retry_after(self, now: float) -> int:
        return max(1, int(self.reset_at - now + 0.999))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }


class RateLimiter(Protocol):
    limit: int

    async def hit(self, account_id: str) -> RateDecision | None:
        """Count one request; None when limiting is off."""


def _decide(limit: int, count: int, window_start: int) -> RateDecision:
    return RateDecision(
        limit=limit,
        remaining=max(0, limit - count),
        reset_at=window_start + WINDOW_SECONDS,
        allowed=count <= limit,
    )


class MemoryRateLimiter:
    """For the embedded shape, where one process is the only API server."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, account_id: str) -> RateDecision | None:
        if self.limit <= 0:
            return None
        window_start = int(time.time()) // WINDOW_SECONDS * WINDOW_SECONDS
        async with self._lock:
            start, count = self._windows.get(account_id, (window_start, 0))
            count = count + 1 if start == window_start else 1
            self._windows[account_id] = (window_start, count)
        return _decide(self.limit, count, window_start)


class DatabaseRateLimiter:
    """For several API replicas: the window lives in the shared database."""

    def __init__(self, limit: int, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.limit = limit
        self._sessions = sessions

    async def hit(self, account_id: str) -> RateDecision | None:
        if self.limit <= 0:
            return None
        window_start = int(time.time()) // WINDOW_SECONDS * WINDOW_SECONDS
        async with unit_of_work(self._sessions) as session:
            count = await RateLimitStore(session).hit(account_id, window_start)
        return _decide(self.limit, count, window_start)
