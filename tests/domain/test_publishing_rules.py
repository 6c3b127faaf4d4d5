"""Idempotency keys, retry backoff and the bound on platform delays (DESIGN §4)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from herald.domain.publishing import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_PLATFORM_DELAY,
    backoff_delay,
    bounded_delay,
    part_key,
    publish_key,
)


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=2**32))
def test_backoff_stays_within_full_jitter_bounds(attempt: int, seed: int) -> None:
    delay = backoff_delay(attempt, random.Random(seed))
    assert timedelta(0) <= delay <= min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempt, 30))


def test_backoff_ceiling_doubles_until_the_cap() -> None:
    always_top = random.Random(0)
    always_top.random = lambda: 1.0  # type: ignore[method-assign]
    ceilings = [backoff_delay(attempt, always_top).total_seconds() for attempt in range(10)]
    assert ceilings == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]


def test_backoff_is_spread_not_synchronised() -> None:
    rng = random.Random(7)
    delays = {round(backoff_delay(3, rng).total_seconds(), 3) for _ in range(50)}
    assert len(delays) > 40


def test_keys_are_stable_per_version_and_distinct_per_part() -> None:
    key = publish_key("6b0c4f240eeeda175c187ab5", 1)
    assert key == publish_key("6b0c4f240eeeda175c187ab5", 1)
    assert key != publish_key("6b0c4f240eeeda175c187ab5", 2)
    assert key != publish_key("6b0c4f240eeeda175c187ab6", 1)
    assert len({part_key(key, part) for part in range(5)}) == 5


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**300, max_value=10**400),
        st.floats(allow_nan=True, allow_infinity=True),
    )
)
def test_a_bounded_delay_always_fits_datetime_arithmetic(seconds: float | None) -> None:
    bounded = bounded_delay(seconds)
    if bounded is None:
        assert seconds is None or isinstance(seconds, bool) or not seconds >= 0
        return
    assert 0 <= bounded <= MAX_PLATFORM_DELAY.total_seconds()
    assert datetime.now(UTC) + timedelta(seconds=bounded) > datetime.now(UTC) - timedelta(1)
    assert bounded == min(seconds, MAX_PLATFORM_DELAY.total_seconds())  # type: ignore[type-var]
