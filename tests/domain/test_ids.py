"""Ids: 24 lowercase hex, roughly time-ordered, and no id tells anything about the next."""

from __future__ import annotations

import itertools
import time

from herald.domain.ids import is_id, new_id

SAMPLE = 200


def test_ids_are_24_hex_and_start_with_the_second_they_were_made() -> None:
    before = int(time.time())
    made = new_id()
    after = int(time.time())
    assert is_id(made)
    assert before <= int(made[:8], 16) <= after


def test_the_64_bits_after_the_time_are_random_in_every_id() -> None:
    """Each of the 64 bits takes both values across the sample (a fixed bit, as in a
    per-process part, or a counter's high bits, would stay the same in all of them), and
    consecutive ids differ in about half of those bits (a counter changes a few)."""
    tails = [int(new_id()[8:], 16) for _ in range(SAMPLE)]
    always_set, ever_set = (1 << 64) - 1, 0
    for tail in tails:
        always_set &= tail
        ever_set |= tail
    assert (always_set, ever_set) == (0, (1 << 64) - 1)
    differing = [(a ^ b).bit_count() for a, b in itertools.pairwise(tails)]
    # Binomial(64, 1/2) per pair: a mean under 24 over 199 pairs does not happen by chance.
    assert sum(differing) / len(differing) > 24
