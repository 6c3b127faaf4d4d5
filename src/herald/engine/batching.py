"""Group commit: many small fenced writes share one transaction (one fsync on SQLite).

Semantics are unchanged: each row is still gated or finished individually, and a caller learns its
own row's result. Without this, 10,000 targets due in the same second would need 10,000 durable
commits before the last one could start (engine-research §7.4 "Group commit")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.db.engine import unit_of_work
from herald.domain.timestamps import utc_now
from herald.store import group_status_due
from herald.store.publish_queue import PublishQueueStore
from herald.store.publish_result import PublishResultStore, Success

T = TypeVar("T")
# A group noted this long ago and not yet refreshed lost its worker (its refresh normally comes
# within the batcher's 20 ms plus a transaction).
LEFT_OVER_AFTER = timedelta(seconds=10)
LEFT_OVER_BATCH = 1000
Item = TypeVar("Item")
logger = logging.getLogger("herald.engine")


class _Collector(Generic[Item, T]):
    """Collects items for up to `max_delay`, then flushes them together."""

    def __init__(self, max_delay: float, max_batch: int) -> None:
        self._max_delay = max_delay
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[T]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=type(self).__name__)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for _item, future in self._pending:
            if not future.done():
                future.set_exception(RuntimeError("engine stopping"))
        self._pending.clear()

    async def submit(self, item: Item) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._max_delay)
            batch, self._pending = (
                self._pending[: self._max_batch],
                self._pending[self._max_batch :],
            )
            if not self._pending:
                self._wake.clear()
            if not batch:
                continue
            try:
                results = await self._flush([item for item, _ in batch])
            except Exception as exc:  # every caller of the batch learns it failed
                logger.warning(
                    "engine.batch.failed error=%s size=%d", type(exc).__name__, len(batch)
                )
                for _item, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_item, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, _Failed):
                    future.set_exception(result.error)
                else:
                    future.set_result(result)

    async def _flush(self, items: Sequence[Item]) -> Sequence[T | _Failed]:
        raise NotImplementedError


Write = Callable[[AsyncSession], Awaitable[Any]]


class _Failed:
    """One write of a batch that raised; the others still commit."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class _OneTransaction(_Collector[Item, T]):
    """Writes a batch in one transaction. If that fails, each item is written in a transaction
    of its own, so one bad item spoils no other; the failed batch was rolled back, so nothing
    is applied twice. (A deadlock victim on PostgreSQL recovers the same way.)"""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_delay: float = 0.005,
        max_batch: int = 1000,
    ) -> None:
        super().__init__(max_delay, max_batch)
        self._sessions = sessions

    async def _write(self, session: AsyncSession, items: Sequence[Item]) -> Sequence[T]:
        raise NotImplementedError

    async def _flush(self, items: Sequence[Item]) -> Sequence[T | _Failed]:
        try:
            return await self._in_transaction(items)
        except Exception as exc:
            if len(items) == 1:
                return [_Failed(exc)]
        results: list[T | _Failed] = []
        for item in items:
            try:
                results.extend(await self._in_transaction([item]))
            except Exception as exc:
                results.append(_Failed(exc))
        return results

    async def _in_transaction(self, items: Sequence[Item]) -> Sequence[T]:
        async with unit_of_work(self._sessions) as session:
            return await self._write(session, items)


class WriteBatcher(_OneTransaction[Write, Any]):
    """Runs each submitted write in one shared transaction and returns its own result."""

    async def run(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        result: T = await self.submit(write)
        return result

    async def _write(self, session: AsyncSession, items: Sequence[Write]) -> Sequence[Any]:
        return [await write(session) for write in items]


class GateBatcher(_Collector[tuple[str, int], datetime | None]):
    """The send gate for many claims in one statement; each caller learns when its row passed
    (the committed `sent_at`), or None if it was fenced and must not be sent."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_delay: float = 0.002,
        max_batch: int = 2000,
    ) -> None:
        super().__init__(max_delay, max_batch)
        self._sessions = sessions

    async def _flush(self, items: Sequence[tuple[str, int]]) -> Sequence[datetime | None]:
        now = utc_now()
        async with unit_of_work(self._sessions) as session:
            passed = await PublishQueueStore(session).pass_gate(items, now)
        return [now if target_id in passed else None for target_id, _ in items]


class GroupStatusBatcher(_Collector[str, None]):
    """Refreshes the stored status of groups whose targets finished, in a transaction of its
    own and in id order: finish writes from several workers then never wait on each other's
    group rows in a cycle."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_delay: float = 0.02,
        max_batch: int = 2000,
    ) -> None:
        super().__init__(max_delay, max_batch)
        self._sessions = sessions

    async def _flush(self, items: Sequence[str]) -> Sequence[None]:
        await self._refresh(items)
        return [None] * len(items)

    async def refresh_left_over(self, now: datetime) -> int:
        """Refresh the groups whose notes outlived their workers (store.group_status_due);
        returns how many. A live worker clears its own within moments of the outcome."""
        async with unit_of_work(self._sessions, write=False) as session:
            left = await group_status_due.left_over(session, now - LEFT_OVER_AFTER, LEFT_OVER_BATCH)
        await self._refresh(left)
        return len(left)

    async def _refresh(self, group_ids: Sequence[str]) -> None:
        if not group_ids:
            return
        async with unit_of_work(self._sessions) as session:
            await PublishResultStore(session).refresh_group_statuses(group_ids)
        # Cleared only once the refresh is committed: a worker that dies in between leaves
        # the notes for the next sweep, which refreshes again (a refresh is idempotent).
        async with unit_of_work(self._sessions) as session:
            await group_status_due.clear(session, group_ids)


class SuccessBatcher(_OneTransaction[Success, bool]):
    """Success writes, the commonest result, many per statement; each caller learns whether its
    claim still held the row."""

    async def _write(self, session: AsyncSession, items: Sequence[Success]) -> Sequence[bool]:
        return await PublishResultStore(session).succeed_many(items)
