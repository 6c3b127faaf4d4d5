"""Rich-text facets of a post: links, hashtags and mentions, located by UTF-8 byte offsets.

Bluesky does not find them itself: a client sends `facets`, each `{"index": {"byteStart",
"byteEnd"}, "features": [...]}` with offsets into the UTF-8 bytes of the text (end exclusive),
and a feature of one of three types (https://docs.bsky.app/docs/advanced-guides/post-richtext):

    app.bsky.richtext.facet#link     {"uri": "https://..."}      an http(s) URL in the text
    app.bsky.richtext.facet#tag      {"tag": "name"}             `#name`, the `#` not in `tag`
    app.bsky.richtext.facet#mention  {"did": "did:plc:..."}      `@handle.domain`

Detection here is pure; mentions name handles, which the connector resolves to DIDs (a handle
that does not resolve gets no facet). The rules follow the Bluesky app's: a tag or mention starts
at the beginning of the text or after whitespace (a mention also after `(`), so `a#b`, URLs with
fragments and e-mail addresses produce neither; trailing punctuation ends a tag or a URL; a tag
made only of digits (`#1`) or longer than 64 graphemes is not a tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# `regex` ships no stubs; "unused-ignore" keeps this quiet where the mypy config ignores it too.
import regex  # type: ignore[import-untyped, unused-ignore]

LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"
MENTION = "app.bsky.richtext.facet#mention"

_URL = regex.compile(r"(?<![\w@$#/])(?i:https?)://[^\s<>\"]+")
# Characters a URL rarely ends with: the punctuation of the sentence around it.
_URL_TRAILERS = ".,;:!?'\"\u2019\u201d\u2026)]}>"
# Invisible characters (soft hyphen, word joiner, zero-width spaces and joiners) end a tag.
_TAG = regex.compile(
    r"(?:^|(?<=\s))[#\uFF03](?!\uFE0F|\u20E3)([^\s\u00AD\u2060\u200A-\u200D\u20E2]+)"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
_MAX_TAG_GRAPHEMES = 64
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_MENTION = regex.compile(
    rf"(?:^|(?<=[\s(]))@((?:{_LABEL}\.)+[a-zA-Z](?:[a-zA-Z0-9-]{{0,61}}[a-zA-Z0-9])?)"
    r"(?![a-zA-Z0-9_-])"
)
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class Span:
    """A facet candidate: `kind` is LINK, TAG or MENTION; `value` the URI, tag or handle."""

    kind: str
    byte_start: int
    byte_end: int
    value: str


def find_spans(text: str) -> list[Span]:
    """Links, tags and mentions in order of position; where two overlap the first one wins."""
    found = [*_links(text), *_tags(text), *_mentions(text)]
    found.sort(key=lambda item: (item[0], item[1]))
    spans: list[Span] = []
    taken_until = 0
    for start, end, kind, value in found:
        if start < taken_until:
            continue
        taken_until = end
        spans.append(Span(kind, _byte_offset(text, start), _byte_offset(text, end), value))
    return spans


def mentioned_handles(spans: list[Span]) -> list[str]:
    return sorted({span.value for span in spans if span.kind == MENTION})


def facets(spans: list[Span], dids: Mapping[str, str]) -> list[dict[str, Any]]:
    """The wire facets; a mention whose handle has no entry in `dids` is left out."""
    wire = []
    for span in spans:
        if span.kind == MENTION:
            did = dids.get(span.value)
            if did is None:
                continue
            feature: dict[str, Any] = {"$type": MENTION, "did": did}
        elif span.kind == TAG:
            feature = {"$type": TAG, "tag": span.value}
        else:
            feature = {"$type": LINK, "uri": span.value}
        index = {"byteStart": span.byte_start, "byteEnd": span.byte_end}
        wire.append({"index": index, "features": [feature]})
    return wire


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _links(text: str) -> list[tuple[int, int, str, str]]:
    links = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        if "://" in url and not url.endswith("://"):
            links.append((match.start(), match.start() + len(url), LINK, url))
    return links


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAILERS:
        # A closing parenthesis that balances one inside the URL belongs to it (Wikipedia links).
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _tags(text: str) -> list[tuple[int, int, str, str]]:
    tags = []
    for match in _TAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", match.group(1))
        if not tag or tag.isdecimal() or len(_GRAPHEME.findall(tag)) > _MAX_TAG_GRAPHEMES:
            continue
        # The facet covers the `#` too; the tag's end is where the trimmed tag ends.
        tags.append((match.start(), match.start(1) + len(tag), TAG, tag))
    return tags


def _mentions(text: str) -> list[tuple[int, int, str, str]]:
    return [
        (match.start(), match.end(), MENTION, match.group(1).lower())
        for match in _MENTION.finditer(text)
    ]
