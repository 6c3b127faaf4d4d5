"""The body parser's nesting count agrees with the decoded value, whatever the strings hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.api.json_input import nesting_depth

# Strings full of the characters the count must see past: quotes, backslashes and brackets.
TRICKY_TEXT = st.text(alphabet=st.sampled_from('"\\[]{}ab\u00e9\U0001f600'), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(TRICKY_TEXT, children, max_size=4)
    ),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@given(JSON_VALUES, st.booleans())
def test_the_count_matches_the_decoded_depth(value: Any, ascii_only: bool) -> None:
    assert nesting_depth(json.dumps(value, ensure_ascii=ascii_only)) == depth(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ('"[[["', 0),
        ('{"a\\\\": ["\\"[", {}]}', 3),
        ('["\\\\"]', 1),
        ("[" * 1000, 1000),
    ],
)
def test_escapes_and_unclosed_brackets(text: str, expected: int) -> None:
    assert nesting_depth(text) == expected
