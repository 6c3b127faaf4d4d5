"""The event loop's own delay (engine/loop_lag.py), which a call's latency should not blame on
the platform host."""

from __future__ import annotations

import asyncio
import time

from herald.engine.loop_lag import LoopLag


def test_a_blocked_loop_shows_as_lag_and_an_idle_one_as_none() -> None:
    async def scenario() -> tuple[float, float]:
        lag = LoopLag()
        lag.watch()
        await asyncio.sleep(0.2)
        idle = lag.lag
        for _ in range(5):
            time.sleep(0.1)  # noqa: ASYNC251 (the process is busy: the timer fires late)
            await asyncio.sleep(0)
        return idle, lag.lag

    idle, busy = asyncio.run(scenario())
    assert idle < 0.02
    assert busy > 0.03


def test_the_timer_restarts_on_a_new_loop() -> None:
    lag = LoopLag()

    async def watched() -> bool:
        lag.watch()
        await asyncio.sleep(0.05)
        return lag._handle is not None

    assert asyncio.run(watched())
    assert asyncio.run(watched())  # a new loop: the old loop's timer is not taken for running
