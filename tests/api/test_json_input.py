"""The body parser's shortcuts agree with the decoded value: the nesting count with its depth,
and the search for unstorable escapes with a walk over every string, whatever the strings hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.api.json_input import nesting_depth, parse_json_object
from herald.errors import ValidationError

# Strings full of what the shortcuts must see past: quotes, backslashes, brackets, hex digits,
# NULs and both halves of a surrogate pair, alone or together.
TRICKY_TEXT = st.text(
    alphabet=st.sampled_from('"\\[]{}uD83Ea\x00\u00e9\U0001f600\ud83d\ude00'), max_size=12
)
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


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    if isinstance(value, dict):
        return [*value, *(s for item in value.values() for s in strings(item))]
    return []


def storable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@given(JSON_VALUES)
def test_the_count_matches_the_decoded_depth(value: Any) -> None:
    assert nesting_depth(json.dumps(value)) == depth(value)


@given(st.dictionaries(TRICKY_TEXT, JSON_VALUES, max_size=4))
def test_a_body_is_refused_exactly_when_a_decoded_string_is_unstorable(body: Any) -> None:
    raw = json.dumps(body)  # escapes NULs and surrogates, as a client's encoder does
    decoded = json.loads(raw)  # adjacent halves become one character, as on the server
    if all(storable(text) for text in strings(decoded)) and depth(decoded) <= 32:
        assert parse_json_object(raw.encode()) == decoded
        return
    with pytest.raises(ValidationError) as refused:
        parse_json_object(raw.encode())
    assert refused.value.code in ("INVALID_TEXT", "JSON_TOO_DEEP")


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


@pytest.mark.parametrize(
    ("raw", "refused"),
    [
        (r'{"a": "\uD83D\uDE00"}', False),
        (r'{"a": "\\uD83D and \\u0000 are just text"}', False),
        (r'{"a": "AD83D\uDE00"}', True),  # hex digits before a low half are not a high half
        (r'{"a": "\uD83D\\uDE00"}', True),
        (r'{"a": "\\\uDE00"}', True),
        (r'{"a": "\uDE00\uD83D"}', True),
        (r'{"a": "\\\u0000"}', True),
    ],
)
def test_escape_edges(raw: str, refused: bool) -> None:
    if not refused:
        assert parse_json_object(raw.encode()) == json.loads(raw)
        return
    with pytest.raises(ValidationError, match=r"unpaired surrogate|NUL"):
        parse_json_object(raw.encode())
