"""Weights of spans of one text under one platform's counting, from one pass over the text."""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate, pairwise

from herald.domain.text_count import (
    COUNTERS,
    GRAPHEME,
    URL_WEIGHT,
    Counting,
    Span,
    mastodon_entities,
    url_spans,
)

# An upper bound of the cost of one code point under every rule. X: NFC expands text at most
# threefold, then a code point weighs at most 2, and a link (23) spans at least 4 ASCII code
# points ("t.co"), so under 8 per input code point. UTF-8 takes at most 4 bytes; Bluesky's
# byte cap is 10x its limit.
MAX_COST = 8
_DOMAIN_DOT = re.compile(r"(?<=[A-Za-z0-9_])\.(?=[A-Za-z0-9])")


class _Memo(dict[str, int]):
    """A value per distinct cluster, computed once: texts repeat a small set of clusters."""

    def __init__(self, compute: Callable[[str], int]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: str) -> int:
        value = self[key] = self._compute(key)
        return value


def _prefix(values: Iterable[int]) -> array[int]:
    return array("q", accumulate(values, initial=0))


def _utf8_size(text: str) -> int:
    # surrogatepass: a lone surrogate from a JSON escape must not crash the count.
    return len(text.encode("utf-8", "surrogatepass"))


class SpanWeights:
    """Tells the weight of any span of `text`, and whether it fits a limit.

    The text is cut into grapheme clusters once, and each cluster weighed once; a span's weight
    is then a difference of prefix sums wherever that is exactly what the platform would count
    for the span on its own, and only elsewhere (a span starting inside a cluster, holding a URL
    or a Mastodon mention) is the span measured. Prefix sums with URLs and mentions at their
    counted weight also estimate where a part that fits ends, so that planning measures each
    part about twice instead of searching for its end.
    """

    def __init__(self, text: str, counting: Counting, limit: int, byte_limit: int | None) -> None:
        self.text = text
        self.counting = counting
        self.limit = limit
        self.byte_limit = byte_limit
        self._bounds: Sequence[int] = ()
        self._weights: Sequence[int] = ()  # prefix sums of cluster weights, at each bound
        self._estimate: Sequence[int] = ()  # the same with URLs and mentions as counted
        self._bytes: Sequence[int] = ()
        self._longest = 0
        self._measured: dict[Span, int] = {}
        self._domain_dots: list[int] = []  # X: dots with a letter or digit on both sides

    def fits(self, start: int, end: int, room: int) -> bool:
        """Whether text[start:end], plus `room` characters of ASCII suffix, fits the rule."""
        limit = self.limit - room
        if (end - start) * MAX_COST <= limit:
            return True  # too short to be over any limit: skip measuring
        if self.byte_limit is not None and self.utf8_size(start, end) + room > self.byte_limit:
            return False
        return self.weight(start, end) <= limit

    def utf8_size(self, start: int, end: int) -> int:
        if self.byte_limit is not None and end - start > self.byte_limit:
            return end - start  # a code point takes at least one byte: over the cap anyway
        return _utf8_size(self.text[start:end])

    def weight(self, start: int, end: int) -> int:
        """Exactly what the platform counts for text[start:end] on its own."""
        if self.counting == "code_points":
            return end - start
        self._prepare()
        first = self._bound_index(start)
        if first >= 0 and self._additive(start, end):
            if self.counting in ("graphemes", "mastodon"):
                # The clusters of a span that starts at a cluster boundary are the text's own.
                return bisect_left(self._bounds, end, first) - first
            # X weighs whole clusters (NFC composes inside one, an emoji is one): both ends.
            last = self._bound_index(end)
            if last >= 0:
                return self._weights[last] - self._weights[first]
        return self._measure(start, end)

    def reach(self, start: int, room: int) -> int:
        """About the furthest position a part starting at `start` may end at."""
        self._prepare()
        first = bisect_left(self._bounds, start)
        last = bisect_right(self._estimate, self._estimate[first] + self.limit - room, first)
        if self.byte_limit is not None:
            budget = self._bytes[first] + self.byte_limit - room
            last = min(last, bisect_right(self._bytes, budget, first))
        reach = self._bounds[max(last - 1, first)]
        if self._bounds[first] != start:
            # Inside a cluster (a word that starts with a combining mark, or the code points of
            # a cluster too big to fit alone): spans from here are measured, so the guess must
            # not run to the end of a cluster of a million marks.
            reach = min(reach, start + max(self.limit - room, 1))
        return reach

    def clusters(self, start: int, end: int) -> list[int]:
        """The cluster boundaries of the word text[start:end] as if it stood alone, `start`
        and `end` included: the text's own ones inside it. Whitespace joins a neighbour only
        in a cluster that the word's edge then cuts (a space and the marks after it, a
        prepended sign and the space after it), so the word's clusters start and end there."""
        self._prepare()
        inner = self._bounds[bisect_right(self._bounds, start) : bisect_left(self._bounds, end)]
        return [start, *inner, end]

    def longest_cluster(self) -> int:
        self._prepare()
        return self._longest

    def _bound_index(self, position: int) -> int:
        index = bisect_left(self._bounds, position)
        return index if index < len(self._bounds) and self._bounds[index] == position else -1

    def _additive(self, start: int, end: int) -> bool:
        if self.counting == "graphemes":
            return True
        # Without "://" there is no URL, and without "@" no mention, to count differently;
        # on X, without "." no bare domain ("example.com") either.
        text = self.text
        if self.counting == "x":
            # A bare domain ("example.com") holds a dot between two letters or digits, both
            # inside the span; a sentence's full stop is not one.
            first = bisect_right(self._domain_dots, start)
            inner = first < len(self._domain_dots) and self._domain_dots[first] < end - 1
            return not inner and text.find("://", start, end) < 0
        return text.find("://", start, end) < 0 and (
            self.counting != "mastodon" or text.find("@", start, end) < 0
        )

    def _measure(self, start: int, end: int) -> int:
        span = (start, end)
        if span not in self._measured:
            self._measured[span] = COUNTERS[self.counting](self.text[start:end])
        return self._measured[span]

    def _prepare(self) -> None:
        if self._bounds:
            return
        text = self.text
        if text.isascii() and "\r" not in text:
            # Every ASCII character is a cluster of its own but CR LF; ASCII weighs 1 everywhere.
            self._bounds = self._weights = self._bytes = range(len(text) + 1)
            self._longest = 1
        else:
            clusters = GRAPHEME.findall(text)
            self._bounds = _prefix(map(len, clusters))
            self._longest = max(map(len, clusters), default=0)
            self._weights = self._cluster_weights(clusters)
            if self.byte_limit is not None:
                self._bytes = _prefix(map(_Memo(_utf8_size).__getitem__, clusters))
        if self.counting == "x":
            self._domain_dots = [m.start() for m in _DOMAIN_DOT.finditer(text)]
        self._estimate = self._entity_estimate()

    def _cluster_weights(self, clusters: list[str]) -> Sequence[int]:
        if self.counting == "x":
            return _prefix(map(_Memo(COUNTERS["x"]).__getitem__, clusters))
        if self.counting == "code_points":
            return self._bounds
        return range(len(clusters) + 1)

    def _entity_estimate(self) -> Sequence[int]:
        """The weights with every URL (and Mastodon mention) at what it counts for."""
        if self.counting == "x":
            entities = [(s, e, URL_WEIGHT) for s, e in url_spans(self.text)]
        elif self.counting == "mastodon":
            entities = [(s, e, len(r)) for s, e, r in mastodon_entities(self.text)]
        else:
            return self._weights
        if not entities:
            return self._weights
        weights = [b - a for a, b in pairwise(self._weights)]
        for start, end, counted in entities:
            first, last = bisect_left(self._bounds, start), bisect_left(self._bounds, end)
            if first < last:
                weights[first:last] = [counted] + [0] * (last - first - 1)
        return _prefix(weights)
