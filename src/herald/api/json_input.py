"""Strict JSON request bodies: bounded nesting, finite numbers and text every database stores."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from itertools import accumulate
from typing import Any, NoReturn

from herald.errors import ValidationError

# Real bodies nest three or four levels (platformSettings.tiktok.viewerSetting); 32 leaves room
# while keeping every later recursive step (serialising, storing, logging) far from Python's
# recursion limit.
MAX_JSON_DEPTH = 32
_PATH_SHOWN = 120  # a path in a message is cut here: keys are the client's own text

_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
# NUL and lone surrogates can only arrive as \u escapes: a raw control character is not JSON,
# and the body was decoded strictly. Once escaped backslashes are blanked out, every backslash
# starts an escape, so these find each \u0000 and each surrogate escape not in a pair.
_UNSTORABLE_ESCAPE = re.compile(
    r"\\u(?:0000"  # one literal prefix, which the regex engine finds at memchr speed
    r"|[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"  # a high half with no low one next
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u)[dD][c-fC-F][0-9a-fA-F]{2})"  # a low, no high before
)


class _NotFiniteError(ValueError):
    pass


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` (the MCP client sends a JSON content
    type on bodiless calls). Every refusal is a 400 before anything reads the value."""
    if not raw.strip():
        return {}
    try:
        text = raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError as exc:
        raise ValidationError("Invalid JSON body", code="INVALID_JSON") from exc
    if nesting_depth(text) > MAX_JSON_DEPTH:
        raise ValidationError(
            f"JSON body is nested deeper than {MAX_JSON_DEPTH} levels", code="JSON_TOO_DEEP"
        )
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotFiniteError as exc:
        raise ValidationError(
            "Invalid JSON body: NaN, Infinity and numbers out of range are not allowed",
            code="INVALID_JSON",
        ) from exc
    except ValueError as exc:
        raise ValidationError("Invalid JSON body", code="INVALID_JSON") from exc
    if not isinstance(value, dict):
        raise ValidationError("Request body must be a JSON object", code="INVALID_JSON")
    if _UNSTORABLE_ESCAPE.search(_without_escaped_backslashes(text)):
        check_text(value)  # names the field; the search above only spares clean bodies the walk
    return value


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, counted without recursion or a per-character
    Python loop, so the decoder never sees a body that would recurse too deep. A malformed body
    may count oddly; the decoder refuses it anyway."""
    # With escaped quotes gone, every other quote opens a string: the even pieces are outside.
    unquoted = _without_escaped_backslashes(text).replace('\\"', "__")
    outside_strings = "".join(unquoted.split('"')[::2]).encode()
    steps = outside_strings.translate(_STEPS, delete=_NOT_BRACKETS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def _without_escaped_backslashes(text: str) -> str:
    """Left to right, as a decoder reads them; no other escape holds a backslash."""
    return text.replace("\\\\", "__")


def _refuse_constant(name: str) -> NoReturn:
    raise _NotFiniteError(name)


def _finite_float(text: str) -> float:
    # 1e999 is valid JSON syntax that Python reads as infinity, which no database stores as JSON.
    value = float(text)
    if math.isinf(value):
        raise _NotFiniteError(text)
    return value


def check_text(value: dict[str, Any]) -> None:
    """Refuse a NUL (PostgreSQL cannot store it in text) or an unpaired surrogate (not Unicode,
    so not UTF-8) in any string of a decoded body or query, keys included; the message names
    the first such field. The path to each value is kept as a chain of tuples and spelt out only
    for the field refused, so a large body costs one cheap step per string or container."""
    pending: list[tuple[Any, _Trail]] = [(value, None)]
    while pending:
        item, trail = pending.pop()
        if isinstance(item, str):
            _check_string(item, trail)
            continue
        if isinstance(item, dict):
            for key in item:
                _check_string(key, (trail, _KEY_OF))
            children: Iterable[tuple[Any, Any]] = item.items()
        else:
            children = enumerate(item)
        walked = [(child, (trail, step)) for step, child in children if type(child) in _WALKED]
        pending.extend(reversed(walked))  # popped in document order


_Trail = tuple[Any, Any] | None  # (parent trail, key or index), innermost last
_KEY_OF = object()  # the step that stands for "a key of" the object at the trail
_WALKED = frozenset({str, dict, list})


def _check_string(text: str, trail: _Trail) -> None:
    if "\x00" in text:
        _invalid_text(trail, "contains a NUL character")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            _invalid_text(trail, "contains an unpaired surrogate, which is not Unicode text")


def _invalid_text(trail: _Trail, problem: str) -> NoReturn:
    where = _spelt(trail)
    shown = where if len(where) <= _PATH_SHOWN else where[:_PATH_SHOWN] + "…"
    raise ValidationError(f"{shown} {problem}", code="INVALID_TEXT")


def _spelt(trail: _Trail) -> str:
    """`platformSettings.x.y`, `altTexts[1]`, `a key of platformSettings`."""
    steps: list[Any] = []
    while trail is not None:
        trail, step = trail
        steps.append(step)
    where = ""
    for step in reversed(steps):
        if step is _KEY_OF:
            return f"a key of {where or 'the body'}"
        if isinstance(step, int):
            where += f"[{step}]"
        else:
            where = f"{where}.{step}" if where else step
    return where
