"""Publora Markdown to Telegram entities: the rules, and offsets in UTF-16 code units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.platforms.telegram.formatting import to_entities, utf16_length


def spans(source: str) -> tuple[str, list[tuple[str, str]]]:
    """The plain text, and each entity as (type, the text it covers)."""
    formatted = to_entities(source)
    units = formatted.text.encode("utf-16-le")
    covered = [
        (e["type"], units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"))
        for e in formatted.entities
    ]
    return formatted.text, covered


@pytest.mark.parametrize(
    ("source", "text", "covered"),
    [
        ("**bold**", "bold", [("bold", "bold")]),
        ("a _b_ c", "a b c", [("italic", "b")]),
        ("`x = *y*`", "x = *y*", [("code", "x = *y*")]),
        ("[site](https://a.example)", "site", [("text_link", "site")]),
        ("**_both_**", "both", [("italic", "both"), ("bold", "both")]),
        (
            "[**big** link](https://a.example)",
            "big link",
            [("text_link", "big link"), ("bold", "big")],
        ),
        ("> one\n> two\nthree", "one\ntwo\nthree", [("blockquote", "one\ntwo")]),
        ("> **q**", "q", [("blockquote", "q"), ("bold", "q")]),
        ("```\nraw **x**\n```", "raw **x**", [("pre", "raw **x**")]),
    ],
)
def test_each_construct(source: str, text: str, covered: list[tuple[str, str]]) -> None:
    assert spans(source) == (text, covered)


@pytest.mark.parametrize(
    "source",
    [
        "snake_case_name and file_1_2",
        "** spaced **",
        "2 * 3 * 4",
        "a lone ** marker",
        "[not a link](javascript:alert(1))",
        "```\nno closing fence",
        "# Heading stays as typed",
        "price: 5_000_000",
    ],
)
def test_ordinary_text_stays_as_typed(source: str) -> None:
    assert spans(source) == (source, [])


def test_offsets_count_utf16_code_units() -> None:
    formatted = to_entities("\U0001f469\u200d\U0001f4bb **dev** é")
    # 👩 (2) + ZWJ (1) + 💻 (2) + space (1): "dev" starts at 6.
    assert formatted.entities == [{"type": "bold", "offset": 6, "length": 3}]
    assert formatted.length == utf16_length(formatted.text) == 11


def test_a_code_block_language_and_the_lines_around_it() -> None:
    formatted = to_entities("Before\n```sql\nSELECT 1;\n```\nAfter")
    assert formatted.text == "Before\nSELECT 1;\nAfter"
    assert formatted.entities == [{"type": "pre", "offset": 7, "length": 9, "language": "sql"}]


def test_entities_are_ordered_by_offset_then_outer_first() -> None:
    formatted = to_entities("x **a _b_** `c`")
    keys = [(e["offset"], -e["length"]) for e in formatted.entities]
    assert keys == sorted(keys)


def _low_surrogates(text: str) -> set[int]:
    positions, position = set(), 0
    for char in text:
        position += 2 if ord(char) > 0xFFFF else 1
        if ord(char) > 0xFFFF:
            positions.add(position - 1)
    return positions


_MARKUP = st.sampled_from(["**", "_", "`", "```", "\n", "> ", "[", "](https://a.b)", " "])
_TEXT = st.lists(st.one_of(_MARKUP, st.text(min_size=1, max_size=4)), max_size=25).map("".join)


@given(_TEXT)
def test_entities_always_lie_within_the_text(source: str) -> None:
    formatted = to_entities(source)
    length = utf16_length(formatted.text)
    assert formatted.length == length
    cut = _low_surrogates(formatted.text)
    for entity in formatted.entities:
        start, end = entity["offset"], entity["offset"] + entity["length"]
        assert 0 <= start < end <= length
        assert start not in cut  # never half an emoji
        assert end not in cut


@given(st.text(alphabet=st.characters(blacklist_characters="*_`[>\n")))
def test_text_without_markup_characters_is_unchanged(source: str) -> None:
    formatted = to_entities(source)
    assert (formatted.text, formatted.entities) == (source, [])
