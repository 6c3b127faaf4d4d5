"""Strict JSON request bodies: bounded nesting, finite numbers and text every database stores."""

from __future__ import annotations

import json
import math
import re
from collections import deque
from itertools import accumulate
from typing import Any, NoReturn

from herald.errors import ValidationError

# Real bodies nest three or four levels (platformSettings.tiktok.viewerSetting); 32 leaves room
# while keeping every later recursive step (serialising, storing, logging) far from Python's
# recursion limit.
MAX_JSON_DEPTH = 32
_PATH_SHOWN = 120  # a path in a message is cut here: keys are the client's own text

_ESCAPE = re.compile(r"\\.", re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    check_text(value)
    return value


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, counted without recursion or a per-character
    Python loop, so the decoder never sees a body that would recurse too deep. A malformed body
    may count oddly; the decoder refuses it anyway."""
    # With escapes gone, every other quote opens a string: the even pieces are outside.
    outside_strings = "".join(_ESCAPE.sub("", text).split('"')[::2]).encode()
    steps = outside_strings.translate(_STEPS, delete=_NOT_BRACKETS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def _refuse_constant(name: str) -> NoReturn:
    raise _NotFiniteError(name)


def _finite_float(text: str) -> float:
    # 1e999 is valid JSON syntax that Python reads as infinity, which no database stores as JSON.
    value = float(text)
    if math.isinf(value):
        raise _NotFiniteError(text)
    return value


def check_text(body: dict[str, Any]) -> None:
    """Refuse a NUL (PostgreSQL cannot store it in text) or an unpaired surrogate (not Unicode,
    so not encodable as UTF-8) in any string of the body, keys included; the message names the
    field. Breadth first, so the shallowest offender is named."""
    pending: deque[tuple[Any, str]] = deque([(body, "")])
    while pending:
        value, where = pending.popleft()
        if isinstance(value, str):
            _check_string(value, where)
        elif isinstance(value, dict):
            for key, child in value.items():
                _check_string(key, f"a key of {where or 'the body'}")
                pending.append((child, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            pending.extend((child, f"{where}[{index}]") for index, child in enumerate(value))


def _check_string(text: str, where: str) -> None:
    if "\x00" in text:
        _invalid_text(where, "contains a NUL character")
    if not text.isascii() and _SURROGATE.search(text):
        _invalid_text(where, "contains an unpaired surrogate, which is not Unicode text")


def _invalid_text(where: str, problem: str) -> NoReturn:
    shown = where if len(where) <= _PATH_SHOWN else where[:_PATH_SHOWN] + "…"
    raise ValidationError(f"{shown} {problem}", code="INVALID_TEXT")
