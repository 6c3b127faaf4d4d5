"""Telegram's parse modes (HTML, MarkdownV2, legacy Markdown) into plain text plus entities.

Each follows the Bot API's description (https://core.telegram.org/bots/api#formatting-options)
closely enough to give what Telegram gives for well-formed input and to refuse malformed input
with Telegram's wording; offsets count UTF-16 code units."""

from __future__ import annotations

import html
import re
from typing import Any

from herald.sim.telegram_markup import EntityBuilder, MarkupError, byte_offset


def parse(text: str, parse_mode: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities; raises MarkupError as Telegram would, ValueError for a mode
    Telegram does not know."""
    if parse_mode == "HTML":
        return parse_html(text)
    if parse_mode == "MarkdownV2":
        return parse_markdown_v2(text)
    if parse_mode == "Markdown":
        return parse_markdown(text)
    raise ValueError(parse_mode)


# ---- HTML (https://core.telegram.org/bots/api#html-style) ----

_TAG = re.compile(
    r"""<(/?)([A-Za-z][A-Za-z0-9-]*)
        ((?:\s+[A-Za-z][A-Za-z0-9-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*>""",
    re.VERBOSE,
)
_ATTRIBUTE = re.compile(
    r"""([A-Za-z][A-Za-z0-9-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_CHARACTER = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(lt|gt|amp|quot));")
_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _attributes(raw: str) -> dict[str, str]:
    values = {}
    for match in _ATTRIBUTE.finditer(raw):
        value = next((v for v in match.group(2, 3, 4) if v is not None), "")
        values[match.group(1).lower()] = html.unescape(value)
    return values


def _character(match: re.Match[str]) -> str:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name]
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


class _HtmlParser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.out = EntityBuilder()
        # Open tags: name, entity start, attributes, index in the source.
        self.open: list[tuple[str, int, dict[str, str], int]] = []

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        index = 0
        while index < len(self.source):
            char = self.source[index]
            if char == "<":
                index = self._tag(index)
            elif char == "&" and (match := _CHARACTER.match(self.source, index)):
                self.out.add(_character(match))
                index = match.end()
            else:
                self.out.add(char)
                index += 1
        if self.open:
            raise MarkupError(
                f'Can\'t find end tag corresponding to start tag "{self.open[-1][0]}"'
            )
        return self.out.result()

    def _tag(self, index: int) -> int:
        match = _TAG.match(self.source, index)
        offset = byte_offset(self.source, index)
        if match is None:
            raise MarkupError(f"Can't find end of the tag starting at byte offset {offset}")
        closing, name = match.group(1) == "/", match.group(2).lower()
        if closing:
            self._close(name, offset)
            return match.end()
        attributes = _attributes(match.group(3))
        spoiler = name != "span" or attributes.get("class") == "tg-spoiler"
        if name not in _HTML_TYPES or not spoiler:
            raise MarkupError(f'Unsupported start tag "{name}" at byte offset {offset}')
        self.open.append((name, self.out.position, attributes, index))
        return match.end()

    def _close(self, name: str, offset: int) -> None:
        if not self.open:
            raise MarkupError(f"Unexpected end tag at byte offset {offset}")
        opened, start, attributes, _ = self.open.pop()
        if opened != name:
            raise MarkupError(
                f'Unmatched end tag at byte offset {offset}, expected "</{opened}>", '
                f'found "</{name}>"'
            )
        kind = _HTML_TYPES[name]
        if kind == "text_link":
            if attributes.get("href"):
                self.out.entity(kind, start, url=attributes["href"])
        elif kind == "custom_emoji":
            self.out.entity(kind, start, custom_emoji_id=attributes.get("emoji-id", ""))
        elif kind == "code" and self.open and self.open[-1][0] == "pre":
            # <pre><code class="language-x"> gives the block its language; no code entity.
            language = attributes.get("class", "").removeprefix("language-")
            self.open[-1][2]["language"] = language
        elif kind == "pre" and attributes.get("language"):
            self.out.entity(kind, start, language=attributes["language"])
        elif kind == "blockquote" and "expandable" in attributes:
            self.out.entity("expandable_blockquote", start)
        else:
            self.out.entity(kind, start)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    return _HtmlParser(source).run()


# ---- MarkdownV2 (https://core.telegram.org/bots/api#markdownv2-style) ----

_V2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}
_V2_TYPES = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}


class _MarkdownV2Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.out = EntityBuilder()
        self.open: list[tuple[str, int, int]] = []  # marker, entity start, index in the source
        self.quote_start: int | None = None
        self.quote_end = 0

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        index, line_start = 0, True
        while index < len(self.source):
            char = self.source[index]
            if line_start:
                line_start = False
                if char == ">":
                    if self.quote_start is None:
                        self.quote_start = self.out.position
                    index += 1
                    continue
                self._end_quote()
            if char == "\n":
                self.quote_end = self.out.position
                self.out.add(char)
                index, line_start = index + 1, True
            else:
                index = self._step(index, char)
        if self.open:
            marker, _, at = self.open[-1]
            name, offset = _V2_NAMES[marker], byte_offset(self.source, at)
            raise MarkupError(f"Can't find end of {name} entity at byte offset {offset}")
        self.quote_end = self.out.position
        self._end_quote()
        return self.out.result()

    def _end_quote(self) -> None:
        if self.quote_start is not None:
            self.out.entity("blockquote", self.quote_start, self.quote_end)
            self.quote_start = None

    def _step(self, index: int, char: str) -> int:
        source = self.source
        following = source[index + 1 : index + 2]
        if char == "\\" and following and 0 < ord(following) < 127:
            self.out.add(following)
            return index + 2
        if char == "`":
            return self._code(index)
        if char == "_" and following == "_" and (not self.open or self.open[-1][0] != "_"):
            return self._marker("__", index)
        if char == "|" and following == "|":
            return self._marker("||", index)
        if char in "*_~[":
            return self._marker(char, index)
        if char == "]" and self.open and self.open[-1][0] == "[" and following == "(":
            return self._link(index)
        if char in "_*[]()~`>#+-=|{}.!\\":
            raise MarkupError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        self.out.add(char)
        return index + 1

    def _marker(self, marker: str, index: int) -> int:
        markers = [opened for opened, _, _ in self.open]
        if markers and markers[-1] == marker and marker != "[":
            _, start, _ = self.open.pop()
            self.out.entity(_V2_TYPES[marker], start)
        elif marker in markers:
            opened, _, at = self.open[-1]
            offset = byte_offset(self.source, at)
            raise MarkupError(
                f"Can't find end of {_V2_NAMES[opened]} entity at byte offset {offset}"
            )
        else:
            self.open.append((marker, self.out.position, index))
        return index + len(marker)

    def _until(self, index: int, end: str, entity: str) -> tuple[str, int]:
        """The text from `index` up to the unescaped `end`, unescaped; and the index after."""
        chars: list[str] = []
        source, opened_at = self.source, index
        while index < len(source):
            if source.startswith(end, index):
                return "".join(chars), index + len(end)
            if source[index] == "\\" and index + 1 < len(source):
                index += 1
            chars.append(source[index])
            index += 1
        offset = byte_offset(source, opened_at - 1)
        raise MarkupError(f"Can't find end of {entity} entity at byte offset {offset}")

    def _code(self, index: int) -> int:
        if not self.source.startswith("```", index):
            content, after = self._until(index + 1, "`", "Code")
            start = self.out.position
            self.out.add(content)
            self.out.entity("code", start)
            return after
        content, after = self._until(index + 3, "```", "Pre")
        language, newline, body = content.partition("\n")
        if not newline or not language or any(c.isspace() for c in language):
            language, body = "", content
        start = self.out.position
        self.out.add(body)
        if language:
            self.out.entity("pre", start, language=language)
        else:
            self.out.entity("pre", start)
        return after

    def _link(self, index: int) -> int:
        url, after = self._until(index + 2, ")", "TextUrl")
        _, start, _ = self.open.pop()
        self.out.entity("text_link", start, url=url)
        return after


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    return _MarkdownV2Parser(source).run()


# ---- legacy Markdown (https://core.telegram.org/bots/api#markdown-style) ----

_LEGACY_TYPES = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """No nesting; `\\` escapes the markers outside entities."""
    out, index = EntityBuilder(), 0
    while index < len(source):
        char, following = source[index], source[index + 1 : index + 2]
        end_marker = "```" if source.startswith("```", index) else char
        if char == "\\" and following in ("_", "*", "`", "["):
            out.add(following)
            index += 2
        elif char in _LEGACY_TYPES or char == "[":
            closing = "](" if char == "[" else end_marker
            end = source.find(closing, index + len(end_marker))
            url_end = source.find(")", end + 2) if char == "[" and end >= 0 else end
            if end < 0 or url_end < 0:
                offset = byte_offset(source, index)
                raise MarkupError(f"Can't find end of the entity starting at byte offset {offset}")
            start = out.position
            out.add(source[index + len(end_marker) : end])
            if char == "[":
                out.entity("text_link", start, url=source[end + 2 : url_end])
            else:
                out.entity("pre" if end_marker == "```" else _LEGACY_TYPES[char], start)
            index = url_end + 1 if char == "[" else end + len(end_marker)
        else:
            out.add(char)
            index += 1
    return out.result()
