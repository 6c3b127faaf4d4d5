"""Greedy packing of one text into parts that fit: sentences, else words, else grapheme runs."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise

from herald.domain.text_spans import MAX_COST, SpanWeights

Span = tuple[int, int]

_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_SENTENCE_ENDS = ".!?\u2026"
_CLOSERS = "\"')]}\u2019\u201d\u00bb"
# A whitespace run that ends a sentence: after `.`, `!`, `?` or `…` (maybe followed by closing
# quotes), or holding a line break. The second form only starts where a run starts, so a long
# run of spaces is scanned once, not once per space.
_SENTENCE_GAP = re.compile(
    rf"[{_SENTENCE_ENDS}][{re.escape(_CLOSERS)}]*(\s+)|(?<!\s)(\s*[{_LINE_BREAKS}]\s*)"
)
_WORD = re.compile(r"\S+")


def pack(spans: SpanWeights, start: int, end: int, room: int) -> list[Span]:
    """Greedily join atoms of text[start:end] into parts that fit with `room` to spare.

    Atoms are sentences that fit alone, else their words, else runs of a word's graphemes.
    Atoms never start or end with whitespace, and the text between two atoms is whitespace, so
    a run of consecutive atoms is a part, with the original whitespace between its pieces.
    """
    if spans.fits(start, end, room):
        return [(start, end)]
    starts: list[int] = []
    ends: list[int] = []
    for atom_start, atom_end in _atoms(spans, start, end, room):
        starts.append(atom_start)
        ends.append(atom_end)
    return [(starts[first], ends[last - 1]) for first, last in _runs(spans, starts, ends, room)]


def _atoms(spans: SpanWeights, start: int, end: int, room: int) -> Iterator[Span]:
    short = (spans.limit - room) // MAX_COST  # a word this long or shorter always fits
    for sentence_start, sentence_end in _sentences(spans.text, start, end):
        if spans.fits(sentence_start, sentence_end, room):
            yield sentence_start, sentence_end
            continue
        for word in _WORD.finditer(spans.text, sentence_start, sentence_end):
            word_start, word_end = word.span()
            if word_end - word_start <= short or spans.fits(word_start, word_end, room):
                yield word_start, word_end
            else:
                yield from _hard_cut(spans, word_start, word_end, room)


def _sentences(text: str, start: int, end: int) -> Iterator[Span]:
    """Spans between whitespace runs that follow a sentence end or hold a line break."""
    position = start
    for gap in _SENTENCE_GAP.finditer(text, start, end):
        gap_start, gap_end = gap.span(1) if gap.group(1) is not None else gap.span(2)
        if gap_start > position:
            yield position, gap_start
        position = gap_end
    if position < end:
        yield position, end


def _hard_cut(spans: SpanWeights, start: int, end: int, room: int) -> Iterator[Span]:
    """Cut an over-long word at grapheme cluster boundaries into spans that fit."""
    bounds = spans.clusters(start, end)
    if spans.longest_cluster() * MAX_COST > spans.limit - room:
        bounds = _split_oversized(spans, bounds, room)
    starts, ends = bounds[:-1], bounds[1:]
    for first, last in _runs(spans, starts, ends, room):
        yield starts[first], ends[last - 1]


def _split_oversized(spans: SpanWeights, bounds: list[int], room: int) -> list[int]:
    # A cluster that cannot fit even alone (hundreds of stacked combining marks) is, as a last
    # resort, cut into code points: the alternative would be refusing to post at all.
    split = [bounds[0]]
    for cluster_start, cluster_end in pairwise(bounds):
        if not spans.fits(cluster_start, cluster_end, room):
            split.extend(range(cluster_start + 1, cluster_end))
        split.append(cluster_end)
    return split


def _runs(
    spans: SpanWeights, starts: Sequence[int], ends: Sequence[int], room: int
) -> Iterator[Span]:
    """Split the units into consecutive runs [first, last), each as long as fits allows.

    A run of one unit is taken even when it does not fit, so that this always terminates; the
    callers only pass units that fit alone. The search for a run's end starts where the prefix
    sums put it, which is exact for most text: a run then costs two checks of its own length.
    """

    def run_fits(first: int, last: int) -> bool:
        return spans.fits(starts[first], ends[last - 1], room)

    count, first = len(starts), 0
    while first < count:
        guess = bisect_right(ends, spans.reach(starts[first], room), first)
        last = _run_end(run_fits, first, count, max(guess, first + 1))
        yield first, last
        first = last


def _run_end(run_fits: Callable[[int, int], bool], first: int, count: int, guess: int) -> int:
    # Invariant: the run [first, good) fits (one unit is taken as fitting) and [first, bad) not.
    good, bad = first + 1, count + 1
    guess = min(guess, count)
    if guess > good:
        if run_fits(first, guess):
            good = guess
        else:
            bad = guess
    step = 1
    while bad == count + 1 and good < count:  # gallop up
        probe = min(good + step, count)
        if run_fits(first, probe):
            good, step = probe, step * 2
        else:
            bad = probe
    while bad - good > 1:  # gallop down, then bisect
        probe = max(bad - step, (good + bad) // 2)
        if run_fits(first, probe):
            good = probe
        else:
            bad, step = probe, step * 2
    return good
