"""How late this process's event loop runs what is due: time a call's latency includes that the
platform host did not spend.

A call's latency is measured from before its request is written until its answer is handled, both
in this process. When the process is short of CPU (a burst's claims, gates and results, or other
processes on the same cores) every callback runs late, and each answer is read that much later:
the host looks slower than it is, and a per-host limit would read our own backlog as the host's
queue. A timer that should fire every INTERVAL seconds measures the delay while calls run.
"""

from __future__ import annotations

import asyncio

INTERVAL = 0.02
SMOOTHING = 0.3  # weight of the latest delay in the moving average
IDLE_AFTER = 10.0  # stop ticking this long after the last call started


class LoopLag:
    """`lag`: the recent delay of the running loop's timers, seconds. Each call start calls
    `watch()` from inside the loop, which (re)starts the timer; it stops when calls stop."""

    def __init__(self) -> None:
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watched = 0.0
        self.lag = 0.0

    def watch(self) -> None:
        loop = asyncio.get_running_loop()
        self._watched = loop.time()
        if self._handle is not None and self._loop is loop:
            return
        self._loop, self.lag = loop, 0.0
        self._schedule(loop)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        due = loop.time() + INTERVAL
        self._handle = loop.call_at(due, self._tick, loop, due)

    def _tick(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        self.lag += SMOOTHING * (max(0.0, loop.time() - due) - self.lag)
        if loop.time() - self._watched < IDLE_AFTER:
            self._schedule(loop)
        else:
            self._handle, self.lag = None, 0.0
