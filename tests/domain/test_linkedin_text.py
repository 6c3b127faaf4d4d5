"""LinkedIn little text: reserved characters escaped, Publora's mentions and hashtags kept."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.linkedin_text import RESERVED, commentary, escape, mentions


def test_every_reserved_character_is_escaped() -> None:
    assert escape("a_b*c~(d)[e]{f}<g>|h\\i@j#k") == (
        "a\\_b\\*c\\~\\(d\\)\\[e\\]\\{f\\}\\<g\\>\\|h\\\\i\\@j\\#k"
    )


def test_mentions_and_hashtags_become_markup() -> None:
    text = "Hi @{urn:li:person:Dk968RHxiO|Daria B.} and @{urn:li:organization:42|Acme (EU)} #ai!"
    assert commentary(text) == (
        "Hi @[Daria B.](urn:li:person:Dk968RHxiO) and @[Acme \\(EU\\)](urn:li:organization:42) "
        "{hashtag|\\#|ai}!"
    )
    assert mentions(text) == ["urn:li:person:Dk968RHxiO", "urn:li:organization:42"]


def test_a_hash_inside_a_word_or_alone_is_just_escaped() -> None:
    assert commentary("C# and # and a#b") == "C\\# and \\# and a\\#b"


@settings(max_examples=40)
@given(st.text(alphabet=st.sampled_from([*sorted(RESERVED), "a", " ", "é"])))
def test_plain_text_round_trips_through_unescaping(text: str) -> None:
    escaped = escape(text)
    out, i = [], 0
    while i < len(escaped):
        if escaped[i] == "\\":
            i += 1
        out.append(escaped[i])
        i += 1
    assert "".join(out) == text
