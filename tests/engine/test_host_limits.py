"""The per-host limit (engine/host_limits.py): Vegas on latency, AIMD on failures, in bounds."""

from __future__ import annotations

import math
import random
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.engine.host_limits import ALPHA, BETA, TOLERANCE, HostLimit


def _serve(
    limit: HostLimit, capacity: int, base: float, samples: int, clock: list[float] | None = None
) -> list[int]:
    """A host that serves `capacity` calls at once in `base` seconds and queues the rest, kept
    full by the engine: each answer's latency is what a call sent at the current limit sees.
    Returns the limit after each answer; `clock` gets the simulated time of each."""
    now, seen = 0.0, []
    for _ in range(samples):
        in_flight = limit.value
        rtt = base * max(1.0, in_flight / capacity)
        now += rtt / in_flight
        limit.answered(rtt, in_flight, now)
        seen.append(limit.value)
        if clock is not None:
            clock.append(now)
    return seen


def test_a_fresh_host_answering_at_its_base_latency_opens_in_a_few_round_trips() -> None:
    limit, clock = HostLimit(initial=4, maximum=2_000), list[float]()
    seen = _serve(limit, capacity=10_000, base=0.2, samples=5_000, clock=clock)
    assert seen[-1] == 2_000
    # The first call alone, then 4, 8, 16 and 32 (doubling while the limit is small, each
    # doubling held a round trip to judge it), then 128, 512 and 2,000: eleven round trips.
    assert clock[seen.index(2_000)] < 11.5 * 0.2
    assert [n for n in (4, 8, 16, 32, 64, 128, 256, 512) if n in seen] == [4, 8, 16, 32, 128, 512]


def test_once_the_host_showed_a_queue_the_limit_only_doubles() -> None:
    limit, now = HostLimit(initial=40, maximum=10_000), 0.0
    limit.answered(0.1, 1, now)
    limit.failed(0.05)  # a 503: the host is loaded
    assert limit.value == 36
    seen = []
    for _ in range(2_000):
        now += 0.1 / limit.value
        limit.answered(0.1, limit.value, now)
        seen.append(limit.value)
    assert 72 in seen
    assert 144 in seen  # 36, 72, 144: doubling


def test_the_limit_settles_just_above_what_the_host_serves_without_queueing() -> None:
    limit = HostLimit(initial=20, maximum=500)
    seen = _serve(limit, capacity=50, base=0.05, samples=5_000)
    tail = sorted(seen[-1_000:])
    assert tail[len(tail) // 2] >= 50  # the host kept busy, but for the dips of re-measuring
    assert tail[-1] <= TOLERANCE * 50 + 2 * BETA * math.log10(500) + 1  # and a short queue


def test_rising_latency_shrinks_the_limit_multiplicatively_once_per_round_trip() -> None:
    limit = HostLimit(initial=100, maximum=500)
    limit.answered(0.1, 1, 0.0)  # the first call, alone: the base latency
    limit.answered(0.3, 100, 0.05)  # a round trip begins, as long as this answer took
    limit.answered(0.3, 100, 0.2)
    assert limit.shrinks == 0
    limit.answered(0.3, 100, 0.35)  # the round trip ends: every answer three times the base
    # Cut to what the host served without a queue (limit * base / rtt, with the tolerance),
    # plus a few calls.
    assert limit.value == int(100 * TOLERANCE * 0.1 / 0.3 + ALPHA * math.log10(100)) == 56
    assert limit.shrinks == 1
    limit.answered(0.5, 56, 0.4)  # answers of calls sent under the old limit: no second cut
    limit.answered(0.5, 56, 0.6)  # within the round trip after the cut
    assert (limit.value, limit.shrinks) == (56, 1)
    limit.answered(0.5, 56, 0.9)  # a round trip later, still five times the base: halved
    assert (limit.value, limit.shrinks) == (28, 2)


def test_jitter_around_the_mean_is_not_read_as_a_queue() -> None:
    """50 ms +- 25 ms, as the simulators answer: the mean is twice the fastest answer, yet the
    host is idle, and the limit grows to its maximum without a cut."""
    rng = random.Random(3)
    limit, now = HostLimit(initial=10, maximum=500), 0.0
    limit.answered(0.05, 1, now)
    for _ in range(20_000):
        now += 0.05 / limit.value
        limit.answered(rng.uniform(0.025, 0.075), limit.value, now)
    assert limit.base is not None
    assert limit.base < 0.026
    assert (limit.value, limit.shrinks) == (500, 0)


def test_a_host_serving_one_call_at_a_time_is_given_few() -> None:
    """A host that serves calls one after another (as mastodon-mock does, about 12 ms each):
    the k-th of n calls sent at once waits k service times, so even the faster answers of a
    round trip show the queue, and the limit stays at a few calls."""
    limit, now, queue = HostLimit(initial=10, maximum=500), 0.0, list[float]()
    for _ in range(3_000):
        # Keep the host full: each answer frees a place, taken at once by a waiting call.
        while len(queue) < limit.value:
            queue.append(now)
        sent = queue.pop(0)
        now += 0.012
        limit.answered(now - sent, len(queue) + 1, now)
    assert limit.value <= 10
    assert limit.shrinks > 0


def test_latency_within_the_tolerance_of_the_base_is_no_queue() -> None:
    limit = HostLimit(initial=100, maximum=500)
    limit.answered(0.1, 1, 0.0)
    for step in range(1, 40):
        limit.answered(0.14, 100, step * 0.15)  # 40 % slower than the base: noise, not a queue
    assert limit.shrinks == 0
    assert limit.value == 400  # doubled while the calls in flight used half of it or more


def test_failures_shrink_the_limit_once_per_round_trip_and_never_below_the_minimum() -> None:
    limit = HostLimit(initial=100, minimum=2)
    limit.answered(1.0, 1, 0.0)  # the base latency: one round trip is about a second
    before = limit.limit
    limit.failed(0.5)
    assert limit.value == int(before * 0.9)
    limit.failed(0.6)  # the same burst of timeouts: one shrink
    assert (limit.value, limit.drops) == (int(before * 0.9), 2)
    for second in range(2, 200):
        limit.failed(float(second))
    assert limit.value == 2


def test_a_new_hosts_first_call_goes_alone_to_measure_its_no_load_latency() -> None:
    limit = HostLimit(initial=20)
    assert limit.value == 1
    limit.answered(0.05, 1, 0.0)
    assert (limit.value, limit.base) == (20, 0.05)
    assert limit.rounds == 0  # the lone call starts no round trip


def test_a_lightly_used_host_keeps_its_limit() -> None:
    limit = HostLimit(initial=20)
    for step in range(100):
        limit.answered(0.1, 3, step * 0.1)  # 3 calls at once tell nothing about a limit of 20
    assert limit.value == 20


def test_the_no_load_latency_is_measured_again_after_a_window() -> None:
    limit = HostLimit(initial=20)
    limit.answered(0.01, 1, 0.0)
    for step in range(1_100):
        limit.answered(1.0, 1, float(step))  # the host moved: its latency is now 1 s
    assert limit.base == pytest.approx(1.0)


@settings(max_examples=200, deadline=None)
@given(
    initial=st.integers(1, 1_000),
    minimum=st.integers(1, 10),
    maximum=st.integers(10, 1_000),
    events=st.lists(
        st.one_of(
            st.tuples(st.just("answer"), st.floats(1e-9, 120.0), st.integers(0, 2_000)),
            st.tuples(st.just("fail"), st.just(0.0), st.just(0)),
        ),
        max_size=300,
    ),
)
def test_the_limit_stays_within_its_bounds_whatever_happens(
    initial: int, minimum: int, maximum: int, events: list[tuple[str, float, int]]
) -> None:
    limit = HostLimit(initial=initial, minimum=minimum, maximum=maximum)
    assert minimum <= limit.value <= maximum
    for now, (kind, rtt, in_flight) in enumerate(events):
        if kind == "answer":
            limit.answered(rtt, in_flight, float(now))
        else:
            limit.failed(float(now))
        assert minimum <= limit.value <= maximum


@settings(max_examples=50, deadline=None)
@given(capacity=st.integers(1, 300), base=st.floats(0.001, 2.0))
def test_under_a_host_that_queues_past_its_capacity_the_limit_never_runs_away(
    capacity: int, base: float
) -> None:
    limit = HostLimit(initial=20, maximum=1_000)
    seen = _serve(limit, capacity, base, samples=3_000)
    # The latency the tolerance lets pass, a queue past BETA, and one jump of growth at most.
    assert max(seen[-500:]) <= TOLERANCE * capacity + 2 * BETA * math.log10(1_000) + 1


def test_a_host_that_stops_answering_halves_the_limit_once_until_it_answers_again() -> None:
    limit = HostLimit(initial=20)
    limit.answered(0.1, 1, 0.0)
    for call in range(20):  # every call in flight times out, all within one round trip
        limit.failed(30.0 + call * 0.001)
    assert limit.value == 9  # 20 * 0.9 at the first, then halved once half of them had failed
    limit.answered(0.1, 9, 30.05)
    for call in range(2):  # a failure here and there: the gentle cut, once a round trip
        limit.failed(40.0 + call)
    assert limit.value == 7  # int(9 * 0.9 * 0.9)


@pytest.mark.parametrize("starts", [(0.0, 0.5, 1.5), (0.0, 0.05, 0.1)])
def test_three_workers_on_a_host_serving_one_call_at_a_time_keep_it_to_a_few_dozen(
    starts: tuple[float, ...],
) -> None:
    """Three processes, each with its own limit, share a host that serves one call at a time
    (12 ms each, as mastodon-mock nearly does). The later ones measure their base while the
    first loads the host, so each misjudges it; between them they must not run the host's queue
    away (mastodon-mock stalls from some 25-40 calls at once)."""
    limits = [HostLimit(initial=4, maximum=500) for _ in starts]
    queue: deque[tuple[int, float]] = deque()
    ours, totals, now = [0] * len(starts), list[int](), 0.0
    while len(totals) < 10_000:
        for worker, (limit, start) in enumerate(zip(limits, starts, strict=True)):
            while now >= start and ours[worker] < limit.value:
                queue.append((worker, now))
                ours[worker] += 1
        worker, sent = queue.popleft()
        now += 0.012
        ours[worker] -= 1
        limits[worker].answered(now - sent, ours[worker] + 1, now)
        totals.append(sum(ours) + 1)
    settled = sorted(totals[len(totals) // 2 :])
    assert settled[len(settled) // 2] <= 25
    assert settled[-1] <= 50
