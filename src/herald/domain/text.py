"""Per-platform text length rules, and splitting long content into thread parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from herald.domain.platform import Platform
from herald.domain.text_count import COUNTERS, Counting
from herald.domain.text_pack import Span, pack
from herald.domain.text_spans import MAX_COST, SpanWeights

# The longest content Herald takes, in code points. The longest single post of any platform is
# Facebook's 63,206 characters; this leaves room above it for long threads (about 360 posts on
# X) while bounding what one request can make Herald plan and store.
CONTENT_MAX_CHARACTERS = 100_000

_BREAK_LINE = re.compile(r"^[ \t]*---[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True)
class TextRule:
    """How one platform limits the text of a post, and whether long text becomes a thread."""

    platform: Platform
    limit: int  # max weighted length of one post / part
    counting: str  # human description of how the length is counted
    threads: bool  # True: over-limit content is split into a reply chain
    numbered: bool  # True: each part of a multi-part thread gets a " [i/N]" suffix
    byte_limit: int | None  # extra UTF-8 byte cap per part, else None


class TextTooLongError(ValueError):
    """Content over the limit of a platform that cannot split it into a thread."""

    def __init__(self, platform: Platform, limit: int, length: int) -> None:
        super().__init__(
            f"Content too long for {platform.value}: {length} characters, the limit is {limit}"
        )
        self.platform = platform
        self.limit = limit
        self.length = length


_X = "X weighted characters (URLs 23, emoji 2, CJK 2)"
_CP = "code points"
_GR = "graphemes"


def _rule(
    platform: Platform, limit: int, counting: str, *, threads: bool, byte_limit: int | None = None
) -> TextRule:
    # Every threading platform but Threads numbers its parts; Threads shows the chain natively.
    numbered = threads and platform is not Platform.THREADS
    return TextRule(platform, limit, counting, threads, numbered, byte_limit)


_RULES: dict[Platform, TextRule] = {
    rule.platform: rule
    for rule in (
        _rule(Platform.TWITTER, 280, _X, threads=True),
        _rule(Platform.THREADS, 500, _CP, threads=True),
        _rule(Platform.BLUESKY, 300, f"{_GR} and 3000 UTF-8 bytes", threads=True, byte_limit=3000),
        _rule(Platform.MASTODON, 500, f"{_GR} (URLs 23, @user@domain as @user)", threads=True),
        _rule(Platform.SANDBOX, 500, _GR, threads=True),
        _rule(Platform.LINKEDIN, 3000, _CP, threads=False),
        _rule(Platform.INSTAGRAM, 2200, _CP, threads=False),
        _rule(Platform.TIKTOK, 2200, _CP, threads=False),
        _rule(Platform.YOUTUBE, 5000, _CP, threads=False),
        _rule(Platform.FACEBOOK, 63206, _CP, threads=False),
        _rule(Platform.TELEGRAM, 4096, "UTF-16 code units", threads=False),
    )
}

_COUNTING: dict[Platform, Counting] = {
    Platform.TWITTER: "x",
    Platform.BLUESKY: "graphemes",  # Bluesky counts graphemes, as its app does
    Platform.MASTODON: "mastodon",
    Platform.SANDBOX: "graphemes",
    Platform.TELEGRAM: "utf16",  # Telegram counts (and offsets entities) in UTF-16 units
}


def text_rule(platform: Platform) -> TextRule:
    """The text rule of `platform`."""
    return _RULES[platform]


def measure(platform: Platform, text: str) -> int:
    """The length of `text` as `platform` counts it against its limit."""
    return COUNTERS[_COUNTING.get(platform, "code_points")](text)


def fits(platform: Platform, text: str) -> bool:
    """Whether `text` can be published as one post on `platform` (length and byte cap)."""
    return _fits(_RULES[platform], text)


def _fits(rule: TextRule, text: str) -> bool:
    if len(text) * MAX_COST <= rule.limit:
        return True  # too short to be over any limit: skip measuring
    if rule.byte_limit is not None and _utf8_size(text) > rule.byte_limit:
        return False
    return measure(rule.platform, text) <= rule.limit


def _utf8_size(text: str) -> int:
    # surrogatepass: a lone surrogate from a JSON escape must not crash the count.
    return len(text.encode("utf-8", "surrogatepass"))


def plan_parts(platform: Platform, content: str, limit: int | None = None) -> list[str]:
    """The posts to publish for `content`: one if it fits, else a reply chain where allowed.

    Lines holding only `---` force a break. Parts are filled greedily, preferring sentence
    ends and newlines, then spaces, then grapheme boundaries. Content holding no text at all
    besides `---` lines and whitespace (and not fitting as is) yields no parts. `limit`
    replaces the platform's usual one where an account has its own (a Mastodon instance's
    `max_characters`). Time and memory grow linearly with the content.
    """
    rule = _RULES[platform] if limit is None else replace(_RULES[platform], limit=limit)
    if not rule.threads:
        if _fits(rule, content):
            return [content]
        raise TextTooLongError(platform, rule.limit, measure(platform, content))
    counting = _COUNTING.get(platform, "code_points")
    spans = SpanWeights(content, counting, rule.limit, rule.byte_limit)
    pieces = _pieces(content)
    if len(pieces) == 1 and spans.fits(0, len(content), 0):
        return [content]
    segments = [span for piece in pieces if (span := _stripped(content, *piece)) is not None]
    if rule.numbered and not (len(segments) == 1 and spans.fits(*segments[0], 0)):
        return _numbered(rule, spans, segments)
    return [content[start:end] for start, end in _pack_all(spans, segments, 0)]


def _pieces(content: str) -> list[Span]:
    """The spans between `---` lines."""
    pieces, position = [], 0
    for line in _BREAK_LINE.finditer(content):
        pieces.append((position, line.start()))
        position = line.end()
    return [*pieces, (position, len(content))]


def _stripped(content: str, start: int, end: int) -> Span | None:
    piece = content[start:end]
    core = piece.strip()
    if not core:
        return None
    start += len(piece) - len(piece.lstrip())
    return start, start + len(core)


def _pack_all(spans: SpanWeights, segments: list[Span], room: int) -> list[Span]:
    return [part for start, end in segments for part in pack(spans, start, end, room)]


def _numbered(rule: TextRule, spans: SpanWeights, segments: list[Span]) -> list[str]:
    # The suffix width depends on the part count, which depends on the room left by the suffix:
    # pack with room for `digits`-wide numbers until the count needs no more digits. Starting
    # from a count estimate (from the total length) usually saves a packing pass.
    total = sum(spans.weight(start, end) for start, end in segments)
    digits = len(str(max(total // rule.limit, 1)))
    while True:
        parts = _pack_all(spans, segments, len(_suffix(10**digits - 1, 10**digits - 1)))
        if len(str(len(parts))) <= digits:
            break
        digits = len(str(len(parts)))
    return [
        spans.text[start:end] + _suffix(index, len(parts))
        for index, (start, end) in enumerate(parts, 1)
    ]


def _suffix(index: int, count: int) -> str:
    return f" [{index}/{count}]"
