"""The linear counting machinery agrees with the plain definitions it replaces.

The definitions (`\\X`, the URL pattern twitter-text's rule reads as) are slow on some inputs,
which is why they are not used; on short texts they are the reference."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.text_count import COUNTERS, GRAPHEME, Counting, url_spans
from herald.domain.text_spans import SpanWeights

REFERENCE_URL = regex.compile(
    r"""(?<![\w@$\#])(?i:https?)://[^\s<>"]*?
        (?:\([^\s()<>"]*\)|[^\s<>".,;:!?'\u2019\u201D\u2026)\]}])
        (?=[.,;:!?'"\u2019\u201D\u2026)\]}>]*(?:\s|$))""",
    regex.VERBOSE,
)
# Characters that matter to grapheme clusters, URLs and mentions, and the emoji rules.
TRICKY = [
    *"hHtTpPsS:/.()<>\"' a@$#_=-,;!?x1\n\t\r]}",
    *["\u2019", "\u201d", "\u2026", "\u00a0", "\x1c", "\u3000", "https://", "http://", "@b@c"],
    *["\U0001f1fa", "\U0001f1f8", "\u0301", "\u200d", "\ufe0f", "\u20e3", "\U0001f3ff"],
    *["\U0001f468", "\u2764", "\u0600", "\u0915", "\u094d", "\u1100", "\u1161", "\u11a8"],
    *["\uac00", "e", "\u0903", "\U000e0067", "\U0001f3f4", "\u2126", "\u0344", "日"],
]
texts = st.lists(st.sampled_from(TRICKY), max_size=40).map("".join)
COUNTINGS: list[Counting] = ["code_points", "graphemes", "x", "mastodon"]


@settings(max_examples=400, deadline=None, database=None)
@given(text=texts)
def test_clusters_are_those_of_plain_x(text: str) -> None:
    assert GRAPHEME.findall(text) == regex.findall(r"\X", text)


@settings(max_examples=400, deadline=None, database=None)
@given(text=texts)
def test_urls_are_those_of_the_backtracking_pattern(text: str) -> None:
    assert list(url_spans(text)) == [m.span() for m in REFERENCE_URL.finditer(text)]


@settings(max_examples=400, deadline=None, database=None)
@given(
    text=texts,
    counting=st.sampled_from(COUNTINGS),
    cuts=st.lists(st.integers(0, 200), min_size=2, max_size=2),
    byte_limit=st.sampled_from([None, 12]),
)
def test_span_weights_are_what_the_platform_counts(
    text: str, counting: Counting, cuts: list[int], byte_limit: int | None
) -> None:
    start, end = sorted(min(cut, len(text)) for cut in cuts)
    spans = SpanWeights(text, counting, 10, byte_limit)
    span = text[start:end]
    assert spans.weight(start, end) == COUNTERS[counting](span)
    size = len(span.encode("utf-8", "surrogatepass"))
    within_bytes = byte_limit is None or size + 2 <= byte_limit  # 2: the room asked for
    assert spans.fits(start, end, 2) == (COUNTERS[counting](span) <= 8 and within_bytes)


@settings(max_examples=200, deadline=None, database=None)
@given(text=texts, counting=st.sampled_from(COUNTINGS))
def test_span_weights_of_cluster_runs(text: str, counting: Counting) -> None:
    """Every span from one cluster boundary to another: the spans the planner asks about most."""
    bounds = [0]
    for cluster in regex.findall(r"\X", text):
        bounds.append(bounds[-1] + len(cluster))
    spans = SpanWeights(text, counting, 10, None)
    for index, start in enumerate(bounds):
        for end in bounds[index:]:
            assert spans.weight(start, end) == COUNTERS[counting](text[start:end])
