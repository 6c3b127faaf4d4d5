"""Per-host admission of platform calls: a call waits here, before the send gate, for its host.

A claimed target takes a permit from its host (`host_of`) before it passes the send gate and gives
it back when the platform call ends, so a host that slows down makes Herald wait with nothing sent
(the claim can still be edited, released or rescued as unsent) instead of timing out calls it has
sent (each one a post in doubt). Each host's limit adapts (`engine/host_limits.py`). Waiting calls
are served round-robin between connections, so one tenant's backlog on a shared host (an instance
many tenants post to) does not queue another tenant's post behind all of it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from herald.engine.host_limits import HostLimit
from herald.engine.loop_lag import LoopLag

# Where each platform's calls go: the connection option naming the server, and its default.
_ENDPOINTS: dict[str, tuple[str, str]] = {
    "mastodon": ("instanceUrl", ""),
    "bluesky": ("pdsUrl", "https://bsky.social"),
    "telegram": ("apiUrl", "https://api.telegram.org"),
    "sandbox": ("baseUrl", ""),
    "linkedin": ("apiUrl", "https://api.linkedin.com"),
}
logger = logging.getLogger("herald.engine")
MAX_IDLE_HOSTS = 10_000  # forget idle hosts past this many; tenants name their own instances


def host_of(platform: str, options: Mapping[str, Any], sandbox_url: str) -> str:
    """The server a connection's calls go to, as `host[:port]`; the platform name if unknown."""
    option, default = _ENDPOINTS.get(platform, ("", ""))
    url = options.get(option) if option else None
    if not isinstance(url, str) or not url:
        url = sandbox_url if platform == "sandbox" else default
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = ""
    return netloc.rpartition("@")[2].lower() or platform


@dataclass(frozen=True)
class HostState:
    limit: int
    running: int
    waiting: int
    drops: int
    shrinks: int


class _Host:
    def __init__(self, name: str, limit: HostLimit) -> None:
        self.name = name
        self.limit = limit
        self.running = 0
        self.waiting = 0
        # Waiters by connection; the first key is served next, then moves to the back.
        self.queues: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    def grant(self) -> None:
        while self.queues and self.running < self.limit.value:
            key, queue = next(iter(self.queues.items()))
            waiter = queue.popleft()
            self.waiting -= 1
            if queue:
                self.queues.move_to_end(key)
            else:
                del self.queues[key]
            if not waiter.done():
                self.running += 1
                waiter.set_result(None)


class Permit:
    """One call's place under its host's limit. `begin` when the call starts; `answered` or
    `failed` when it ends; `release` in a finally (a no-op after either)."""

    def __init__(self, host: _Host, clock: Callable[[], float], lag: LoopLag) -> None:
        self._host = host
        self._clock = clock
        self._lag = lag
        self._started: float | None = None
        self._held = True

    def begin(self) -> None:
        self._started = self._clock()

    def answered(self, *, measure: bool = True) -> None:
        """The host answered (success or a refusal). `measure=False` for calls whose latency is
        not the host's (media uploads): they free the slot without a latency sample."""
        if self._held and measure and self._started is not None:
            now, shrinks = self._clock(), self._host.limit.shrinks
            limit = self._host.limit
            rtt = now - self._started
            if limit.base is not None and rtt > limit.base:
                # The time our own loop ran late is not the host's; never below its base, so
                # the correction cannot make the host look faster than it ever was.
                rtt = max(limit.base, rtt - self._lag.lag)
            limit.answered(rtt, self._host.running, now)
            self._logged(shrinks, "latency")
        self.release()

    def failed(self) -> None:
        """A timeout, a 5xx or a 429: the host is overloaded."""
        if self._held:
            shrinks = self._host.limit.shrinks
            self._host.limit.failed(self._clock())
            self._logged(shrinks, "failure")
        self.release()

    def _logged(self, shrinks: int, cause: str) -> None:
        limit = self._host.limit
        if limit.shrinks != shrinks:
            logger.info(
                "engine.host.limit_lowered host=%s limit=%d cause=%s base_ms=%.0f rtt_ms=%.0f",
                self._host.name,
                limit.value,
                cause,
                (limit.base or 0.0) * 1000,
                (limit.smoothed or 0.0) * 1000,
            )

    def release(self) -> None:
        if self._held:
            self._held = False
            self._host.running -= 1
            self._host.grant()


class CallLimiter:
    def __init__(
        self, initial: int, maximum: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._initial = initial
        self._maximum = maximum
        self._clock = clock
        self._hosts: dict[str, _Host] = {}
        self._lag = LoopLag()

    async def acquire(self, host: str, key: str) -> Permit:
        """Wait for a place under `host`'s limit; `key` (the connection) for round-robin."""
        state = self._host(host)
        self._lag.watch()
        if state.running < state.limit.value and not state.waiting:
            state.running += 1
            return Permit(state, self._clock, self._lag)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.queues.setdefault(key, deque()).append(waiter)
        state.waiting += 1
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                state.running -= 1  # granted as we were cancelled: hand the place on
                state.grant()
            else:
                self._forget(state, key, waiter)
            raise
        return Permit(state, self._clock, self._lag)

    def saturated(self, host: str) -> bool:
        """As many calls wait for the host as its limit lets run: claim no more for it."""
        state = self._hosts.get(host)
        return state is not None and state.waiting >= state.limit.value

    def snapshot(self) -> dict[str, HostState]:
        return {
            name: HostState(h.limit.value, h.running, h.waiting, h.limit.drops, h.limit.shrinks)
            for name, h in self._hosts.items()
        }

    def _host(self, name: str) -> _Host:
        state = self._hosts.get(name)
        if state is None:
            if len(self._hosts) >= MAX_IDLE_HOSTS:
                for idle in [n for n, h in self._hosts.items() if not h.running and not h.waiting]:
                    del self._hosts[idle]
            limit = HostLimit(initial=min(self._initial, self._maximum), maximum=self._maximum)
            state = self._hosts[name] = _Host(name, limit)
        return state

    @staticmethod
    def _forget(state: _Host, key: str, waiter: asyncio.Future[None]) -> None:
        queue = state.queues.get(key)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            state.waiting -= 1
            if not queue:
                del state.queues[key]
