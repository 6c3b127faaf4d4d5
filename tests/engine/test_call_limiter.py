"""Admission per host (engine/call_limiter.py): waiting, round-robin, cancellation, host names."""

from __future__ import annotations

import asyncio

from herald.engine.call_limiter import CallLimiter, Permit, host_of


def test_calls_past_the_limit_wait_and_are_served_round_robin_between_connections() -> None:
    async def scenario() -> list[str]:
        limiter = CallLimiter(initial=10, maximum=10)
        first = await limiter.acquire("h", "a")  # a new host's first call goes alone
        served: list[str] = []

        async def call(key: str) -> None:
            permit = await limiter.acquire("h", key)
            served.append(key)
            permit.release()

        # Tenant a queued three calls before tenant b's one: b still goes second.
        tasks = [asyncio.create_task(call(key)) for key in ("a", "a", "a", "b")]
        await asyncio.sleep(0)
        assert limiter.snapshot()["h"].waiting == 4
        assert limiter.saturated("h")
        first.release()
        await asyncio.gather(*tasks)
        assert limiter.snapshot()["h"].running == 0
        return served

    assert asyncio.run(scenario()) == ["a", "b", "a", "a"]


def test_a_cancelled_waiter_leaves_the_queue_and_a_granted_one_hands_its_place_on() -> None:
    async def scenario() -> None:
        limiter = CallLimiter(initial=10, maximum=10)
        held = await limiter.acquire("h", "a")
        waiting = asyncio.create_task(limiter.acquire("h", "b"))
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        assert limiter.snapshot()["h"].waiting == 0
        granted = asyncio.create_task(limiter.acquire("h", "c"))
        await asyncio.sleep(0)
        held.release()  # grants c ...
        granted.cancel()  # ... which is cancelled before it runs
        await asyncio.gather(granted, return_exceptions=True)
        assert limiter.snapshot()["h"].running == 0
        again: Permit = await asyncio.wait_for(limiter.acquire("h", "d"), 1)
        again.release()

    asyncio.run(scenario())


def test_a_failed_call_shrinks_its_hosts_limit_only() -> None:
    async def scenario() -> None:
        limiter = CallLimiter(initial=20, maximum=100)
        for host in ("slow", "fast"):  # each host's first answer: its no-load latency
            first = await limiter.acquire(host, "a")
            first.begin()
            first.answered()
        assert limiter.snapshot()["slow"].limit == 20
        slow, fast = await limiter.acquire("slow", "a"), await limiter.acquire("fast", "b")
        slow.begin()
        slow.failed()
        fast.release()
        states = limiter.snapshot()
        assert (states["slow"].limit, states["slow"].drops) == (18, 1)
        assert (states["fast"].limit, states["fast"].drops) == (20, 0)

    asyncio.run(scenario())


def test_hosts_come_from_the_connection_options_or_the_platform_default() -> None:
    sandbox = "http://127.0.0.1:8080/sim/sandbox"
    assert host_of("mastodon", {"instanceUrl": "https://Mastodon.Social/"}, sandbox) == (
        "mastodon.social"
    )
    assert host_of("bluesky", {}, sandbox) == "bsky.social"
    assert host_of("bluesky", {"pdsUrl": "https://pds.example:2583"}, sandbox) == (
        "pds.example:2583"
    )
    assert host_of("telegram", {"chat": "@x"}, sandbox) == "api.telegram.org"
    assert host_of("sandbox", {}, sandbox) == "127.0.0.1:8080"
    assert host_of("sandbox", {"baseUrl": "http://u:p@sim.invalid:9/x"}, sandbox) == "sim.invalid:9"
    assert host_of("mastodon", {"instanceUrl": "http://[::1"}, sandbox) == "mastodon"
