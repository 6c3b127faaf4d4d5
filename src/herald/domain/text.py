"""Per-platform text length rules, and splitting long content into thread parts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import regex  # type: ignore[import-untyped, unused-ignore]

from herald.domain.platform import Platform

# `regex` is used only for what the standard library lacks: grapheme clusters (`\X`, UAX #29)
# and emoji properties. Whitespace handling uses `re`, whose `\s` agrees with `str.isspace()`
# and so with `str.strip()`; `regex`'s `\s` follows White_Space, which differs.
_GRAPHEME = regex.compile(r"\X")

# An http(s) URL, not glued to a preceding word, ending before trailing punctuation such as the
# full stop of the sentence it ends; a balanced "(...)" at the end is kept (Wikipedia links).
_URL = regex.compile(
    r"""(?<![\w@$\#])(?i:https?)://[^\s<>"]*?
        (?:\([^\s()<>"]*\)|[^\s<>".,;:!?'\u2019\u201D\u2026)\]}])
        (?=[.,;:!?'"\u2019\u201D\u2026)\]}>]*(?:\s|$))""",
    regex.VERBOSE,
)
# A remote Mastodon mention `@user@domain`; Mastodon counts it as just `@user`.
_REMOTE_MENTION = regex.compile(
    r"(?<![\w@/=])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)@\w(?:[\w.-]*\w)?"
)
# A grapheme cluster that renders as an emoji: an emoji-presentation character, a pictograph or
# keycap base turned into emoji by VS16 / ZWJ / a skin tone / U+20E3. Flags (regional indicator
# pairs) and tag sequences start with emoji-presentation characters.
_EMOJI_CLUSTER = regex.compile(
    r"""(?=\p{Emoji_Presentation}
          |\p{Extended_Pictographic}[\uFE0F\u200D\p{Emoji_Modifier}]
          |[0-9\#*]\uFE0F?\u20E3)
        \X""",
    regex.VERBOSE,
)
# Code points X weighs 1; everything else weighs 2 (twitter-text v3 config "ranges").
_X_HEAVY = regex.compile(r"[^\x00-\u10FF\u2000-\u200D\u2010-\u201F\u2032-\u2037]")
_URL_WEIGHT = 23  # X and Mastodon both count every URL as 23 characters, whatever its length.
_URL_PLACEHOLDER = "x" * _URL_WEIGHT
# An upper bound of the cost of one code point under every rule. X: NFC expands text at most
# threefold, then a code point weighs at most 2 and a URL (23) spans at least 9 code points, so
# under 8 per input code point. UTF-8 takes at most 4 bytes; Bluesky's byte cap is 10x its limit.
_MAX_COST = 8

_BREAK_LINE = re.compile(r"^[ \t]*---[ \t]*\r?$", re.MULTILINE)
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_SENTENCE_ENDS = frozenset(".!?…")
_CLOSERS = frozenset("\"')]}\u2019\u201d\u00bb")


@dataclass(frozen=True)
class TextRule:
    platform: Platform
    limit: int  # max weighted length of one post / part
    counting: str  # human description of how the length is counted
    threads: bool  # True: over-limit content is split into a reply chain
    numbered: bool  # True: each part of a multi-part thread gets a " [i/N]" suffix
    byte_limit: int | None  # extra UTF-8 byte cap per part, else None


class TextTooLongError(ValueError):
    def __init__(self, platform: Platform, limit: int, length: int) -> None:
        super().__init__(
            f"Content too long for {platform.value}: {length} characters, the limit is {limit}"
        )
        self.platform = platform
        self.limit = limit
        self.length = length


def _code_points(text: str) -> int:
    return len(text)


def _graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def _x_code_point_weight(text: str) -> int:
    return len(text) + len(_X_HEAVY.findall(text))


def _x_weighted(text: str) -> int:
    """twitter-text v3: NFC, then URLs 23 (t.co wrapping), emoji clusters 2, else per code point."""
    text = _URL.sub(_URL_PLACEHOLDER, unicodedata.normalize("NFC", text))
    weight = _x_code_point_weight(text)
    for emoji in _EMOJI_CLUSTER.findall(text):
        weight += 2 - _x_code_point_weight(emoji)
    return weight


def _mastodon_countable(match: regex.Match[str]) -> str:
    return _URL_PLACEHOLDER if match.group(1) is None else "@" + match.group(1)


_MASTODON_ENTITY = regex.compile(f"{_URL.pattern}|{_REMOTE_MENTION.pattern}", regex.VERBOSE)


def _mastodon(text: str) -> int:
    """Mastodon's StatusLengthValidator: URLs become 23 chars, `@user@domain` becomes `@user`,
    then grapheme clusters are counted."""
    return _graphemes(_MASTODON_ENTITY.sub(_mastodon_countable, text))


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
        _rule(Platform.TELEGRAM, 4096, _CP, threads=False),
    )
}

_COUNTERS: dict[Platform, Callable[[str], int]] = {
    Platform.TWITTER: _x_weighted,
    Platform.BLUESKY: _graphemes,  # Bluesky counts graphemes, as its app does
    Platform.MASTODON: _mastodon,
    Platform.SANDBOX: _graphemes,
}


def text_rule(platform: Platform) -> TextRule:
    return _RULES[platform]


def measure(platform: Platform, text: str) -> int:
    """The length of `text` as `platform` counts it against its limit."""
    return _COUNTERS.get(platform, _code_points)(text)


def fits(platform: Platform, text: str) -> bool:
    rule = _RULES[platform]
    if len(text) * _MAX_COST <= rule.limit:
        return True  # too short to be over any limit: skip measuring, which packing does a lot
    if rule.byte_limit is not None and _utf8_size(text) > rule.byte_limit:
        return False
    return measure(platform, text) <= rule.limit


def _utf8_size(text: str) -> int:
    # surrogatepass: a lone surrogate from a JSON escape must not crash the count.
    return len(text.encode("utf-8", "surrogatepass"))


def plan_parts(platform: Platform, content: str) -> list[str]:
    """The posts to publish for `content`: one if it fits, else a reply chain where allowed.

    Lines holding only `---` force a break. Parts are filled greedily, preferring sentence
    ends and newlines, then spaces, then grapheme boundaries. Content holding no text at all
    besides `---` lines and whitespace (and not fitting as is) yields no parts.
    """
    rule = _RULES[platform]
    if not rule.threads:
        if fits(platform, content):
            return [content]
        raise TextTooLongError(platform, rule.limit, measure(platform, content))
    pieces = _BREAK_LINE.split(content)
    if len(pieces) == 1 and fits(platform, content):
        return [content]
    segments = [piece.strip() for piece in pieces if piece.strip()]
    return _numbered_parts(rule, segments)


def _numbered_parts(rule: TextRule, segments: list[str]) -> list[str]:
    parts = _pack_all(rule.platform, segments, reserve="")
    if len(parts) <= 1 or not rule.numbered:
        return parts
    # The suffix width depends on the part count, which depends on the room left by the suffix:
    # pack with room for `digits`-wide numbers until the count needs no more digits.
    digits = 1
    while True:
        parts = _pack_all(rule.platform, segments, reserve=f" [{'9' * digits}/{'9' * digits}]")
        if len(str(len(parts))) <= digits:
            break
        digits = len(str(len(parts)))
    count = len(parts)
    if count == 1:
        return parts
    return [f"{part} [{index}/{count}]" for index, part in enumerate(parts, 1)]


def _pack_all(platform: Platform, segments: list[str], reserve: str) -> list[str]:
    return [part for segment in segments for part in _pack(platform, segment, reserve)]


Span = tuple[int, int]


def _pack(platform: Platform, text: str, reserve: str) -> list[str]:
    """Greedily join atoms of `text` into parts that fit with `reserve` appended."""
    if fits(platform, text + reserve):
        return [text]
    atoms = list(_atoms(platform, text, reserve))

    def joined_fits(first: int, end: int) -> bool:
        return fits(platform, text[atoms[first][0] : atoms[end - 1][1]] + reserve)

    runs = _runs(joined_fits, len(atoms))
    return [text[atoms[first][0] : atoms[end - 1][1]] for first, end in runs]


def _atoms(platform: Platform, text: str, reserve: str) -> Iterator[Span]:
    """Spans of `text` that each fit alone: sentences, else their words, else word fragments.

    Spans never start or end with whitespace, and the text between two spans is whitespace.
    """
    for start, end in _sentences(text):
        if fits(platform, text[start:end] + reserve):
            yield start, end
            continue
        for word in _WORD.finditer(text, start, end):
            if fits(platform, word.group() + reserve):
                yield word.span()
            else:
                yield from _hard_cut(platform, text, word.span(), reserve)


def _sentences(text: str) -> Iterator[Span]:
    """Spans between whitespace runs that follow a sentence end or hold a line break."""
    start = 0
    for gap in _WHITESPACE.finditer(text):
        if _LINE_BREAKS.isdisjoint(gap.group()) and not _ends_sentence(text, gap.start()):
            continue
        if gap.start() > start:
            yield start, gap.start()
        start = gap.end()
    if start < len(text):
        yield start, len(text)


def _ends_sentence(text: str, end: int) -> bool:
    """Whether text[:end] ends with `.`, `!`, `?` or `…`, maybe followed by closing quotes."""
    index = end - 1
    while index >= 0 and text[index] in _CLOSERS:
        index -= 1
    return index >= 0 and text[index] in _SENTENCE_ENDS


def _hard_cut(platform: Platform, text: str, word: Span, reserve: str) -> Iterator[Span]:
    """Cut an over-long word at grapheme cluster boundaries into spans that fit."""
    units = list(_grapheme_units(platform, text, word, reserve))

    def run_fits(first: int, end: int) -> bool:
        return fits(platform, text[units[first][0] : units[end - 1][1]] + reserve)

    for first, end in _runs(run_fits, len(units)):
        yield units[first][0], units[end - 1][1]


def _grapheme_units(platform: Platform, text: str, word: Span, reserve: str) -> Iterator[Span]:
    # A cluster that cannot fit even alone (hundreds of stacked combining marks) is, as a last
    # resort, cut into code points: the alternative would be refusing to post at all.
    for cluster in _GRAPHEME.finditer(text, *word):
        start, end = cluster.span()
        if fits(platform, cluster.group() + reserve):
            yield start, end
        else:
            yield from ((index, index + 1) for index in range(start, end))


def _runs(run_fits: Callable[[int, int], bool], count: int) -> Iterator[Span]:
    """Split units 0..count into consecutive runs [first, end), each as long as `run_fits` allows.

    A run of one unit is taken even when it does not fit, so that this always terminates; the
    callers only pass units that fit alone. Galloping then bisecting keeps the number of
    measurements logarithmic in the run length, which keeps 100k-character texts fast.
    """
    first = 0
    while first < count:
        good, bad, step = first + 1, count + 1, 1
        while good < count:
            probe = min(good + step, count)
            if not run_fits(first, probe):
                bad = probe
                break
            good, step = probe, step * 2
        while bad - good > 1:
            middle = (good + bad) // 2
            if run_fits(first, middle):
                good = middle
            else:
                bad = middle
        yield first, good
        first = good
