"""Publora's Markdown (publora-spec §4.12) as Telegram message entities.

Publora content writes `**bold**`, `_italic_`, `` `code` ``, fenced ``` code blocks (with an
optional language), `[text](url)` and `> quote` lines. Without a `parseMode` setting Herald sends
the plain text plus a list of entities instead of escaped HTML or MarkdownV2: entities cannot fail
to parse, so no character of the owner's text needs escaping. Telegram counts entity offsets and
lengths in UTF-16 code units (https://core.telegram.org/api/entities#entity-length): an emoji
outside the Basic Multilingual Plane counts two.

Rules, chosen to leave ordinary text alone: spans stay within one line; `_italic_` needs a
non-word character (or the line's edge) on its outer sides, so `snake_case_names` stay as typed;
markers must hug their text (`** not bold **`); a link's URL must be http(s), tg or mailto; an
unclosed marker or code fence stays literal. Headings (`# ...`) are not rendered, as in Publora.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_INLINE = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<url>(?:https?://|tg://|mailto:)[^\s()]+)\)"
    r"|\*\*(?P<bold>[^\s*](?:[^\n]*?[^\s*])?)\*\*"
    r"|(?<!\w)_(?P<italic>[^\s_](?:[^\n]*?[^\s_])?)_(?!\w)"
)
_FENCE = re.compile(r"[ \t]*```[ \t]*([\w+#.-]*)[ \t]*")
_QUOTE = re.compile(r">[ \t]?")
_BLOCKS = frozenset({"blockquote", "pre"})


def utf16_length(text: str) -> int:
    """Telegram's length of a text: UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


@dataclass
class Formatted:
    """Plain text and the entities that format it (offsets in UTF-16 code units)."""

    text: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    length: int = 0  # of `text`, in UTF-16 code units

    def add(self, text: str) -> None:
        self.text += text
        self.length += utf16_length(text)

    def mark(self, kind: str, start: int, **extra: str) -> None:
        if self.length > start:  # Telegram drops empty entities anyway
            entity = {"type": kind, "offset": start, "length": self.length - start, **extra}
            self.entities.append(entity)


def to_entities(source: str) -> Formatted:
    """Publora Markdown as plain text plus Telegram entities, outer entities first."""
    out = Formatted()
    lines = source.split("\n")
    index, quote_start = 0, None
    while index < len(lines):
        line = lines[index]
        quoted = _QUOTE.match(line)
        if quote_start is not None and not quoted:
            _end_quote(out, quote_start)
            quote_start = None
        if index:
            out.add("\n")
        fence = _FENCE.fullmatch(line)
        closing = _closing_fence(lines, index + 1) if fence else None
        if fence and closing is not None:
            _code_block(out, lines[index + 1 : closing], fence.group(1))
            index = closing + 1
            continue
        if quoted:
            if quote_start is None:
                quote_start = out.length
            line = line[quoted.end() :]
        _inline(out, line)
        index += 1
    if quote_start is not None:
        _end_quote(out, quote_start)
    # Outer first: by offset, longer first, and a block around an inline span of the same extent.
    out.entities.sort(key=lambda e: (e["offset"], -e["length"], e["type"] not in _BLOCKS))
    return out


def _closing_fence(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if lines[index].strip() == "```":
            return index
    return None


def _code_block(out: Formatted, body: list[str], language: str) -> None:
    start = out.length
    out.add("\n".join(body))
    if language:
        out.mark("pre", start, language=language)
    else:
        out.mark("pre", start)


def _end_quote(out: Formatted, start: int) -> None:
    # Called before the newline that separates the quote from what follows; empty `>` lines at
    # its end would only add newlines to the quote.
    trailing = len(out.text) - len(out.text.rstrip("\n"))
    if out.length - trailing > start:
        length = out.length - trailing - start
        out.entities.append({"type": "blockquote", "offset": start, "length": length})


def _inline(out: Formatted, text: str) -> None:
    position = 0
    for match in _INLINE.finditer(text):
        out.add(text[position : match.start()])
        start = out.length
        if match.group("code") is not None:
            out.add(match.group("code"))  # code is verbatim: no formatting inside
            out.mark("code", start)
        elif match.group("label") is not None:
            _inline(out, match.group("label"))
            out.mark("text_link", start, url=match.group("url"))
        elif match.group("bold") is not None:
            _inline(out, match.group("bold"))
            out.mark("bold", start)
        else:
            _inline(out, match.group("italic"))
            out.mark("italic", start)
        position = match.end()
    out.add(text[position:])
