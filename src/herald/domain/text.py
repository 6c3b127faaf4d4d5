"""Per-platform text length rules, and splitting long content into thread parts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

# `regex` ships no stubs; "unused-ignore" keeps this quiet where the mypy config ignores it too.
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
_X_HEAVY = regex.compile(r"[^\x00-\u10FF\u2000-\u200D\u2010-\u201F\u2032-\u2037]+")
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


def _code_points(text: str) -> int:
    return len(text)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def _x_code_point_weight(text: str) -> int:
    return len(text) + sum(map(len, _X_HEAVY.findall(text)))


def _x_weighted(text: str) -> int:
    """twitter-text v3: NFC, then URLs 23 (t.co wrapping), emoji clusters 2, else per code point."""
    text = _URL.sub(_URL_PLACEHOLDER, unicodedata.normalize("NFC", text))
    emoji = _EMOJI_CLUSTER.findall(text)
    return _x_code_point_weight(text) - _x_code_point_weight("".join(emoji)) + 2 * len(emoji)


def _mastodon_countable(match: regex.Match[str]) -> str:
    return _URL_PLACEHOLDER if match.group(1) is None else "@" + match.group(1)


_MASTODON_ENTITY = regex.compile(f"{_URL.pattern}|{_REMOTE_MENTION.pattern}", regex.VERBOSE)


def _mastodon(text: str) -> int:
    """Mastodon's StatusLengthValidator: grapheme clusters, once URLs are made 23 characters
    and `@user@domain` mentions `@user` (URLs first: a path may look like a mention)."""
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
        _rule(Platform.TELEGRAM, 4096, "UTF-16 code units", threads=False),
    )
}

_COUNTERS: dict[Platform, Callable[[str], int]] = {
    Platform.TWITTER: _x_weighted,
    Platform.BLUESKY: _graphemes,  # Bluesky counts graphemes, as its app does
    Platform.MASTODON: _mastodon,
    Platform.SANDBOX: _graphemes,
    Platform.TELEGRAM: _utf16_units,  # Telegram counts (and offsets entities) in UTF-16 units
}


def text_rule(platform: Platform) -> TextRule:
    """The text rule of `platform`."""
    return _RULES[platform]


def measure(platform: Platform, text: str) -> int:
    """The length of `text` as `platform` counts it against its limit."""
    return _COUNTERS.get(platform, _code_points)(text)


def fits(platform: Platform, text: str) -> bool:
    """Whether `text` can be published as one post on `platform` (length and byte cap)."""
    return _fits(_RULES[platform], text)


def _fits(rule: TextRule, text: str) -> bool:
    if len(text) * _MAX_COST <= rule.limit:
        return True  # too short to be over any limit: skip measuring, which packing does a lot
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
    `max_characters`).
    """
    rule = _RULES[platform] if limit is None else replace(_RULES[platform], limit=limit)
    if not rule.threads:
        if _fits(rule, content):
            return [content]
        raise TextTooLongError(platform, rule.limit, measure(platform, content))
    pieces = _BREAK_LINE.split(content)
    if len(pieces) == 1 and _fits(rule, content):
        return [content]
    segments = [piece.strip() for piece in pieces if piece.strip()]
    return _thread_parts(rule, segments)


def _thread_parts(rule: TextRule, segments: list[str]) -> list[str]:
    sizers = [_Sizer(rule, segment) for segment in segments]
    if not rule.numbered or (len(sizers) == 1 and sizers[0].fits(sizers[0].whole, 0)):
        return _pack_all(sizers, 0)
    # The suffix width depends on the part count, which depends on the room left by the suffix:
    # pack with room for `digits`-wide numbers until the count needs no more digits. Starting
    # from a count estimate (from the total length) usually saves a packing pass.
    total = sum(sizer.weight(sizer.whole) for sizer in sizers)
    digits = len(str(max(total // rule.limit, 1)))
    while True:
        parts = _pack_all(sizers, len(_suffix(10**digits - 1, 10**digits - 1)))
        if len(str(len(parts))) <= digits:
            break
        digits = len(str(len(parts)))
    return [part + _suffix(index, len(parts)) for index, part in enumerate(parts, 1)]


def _suffix(index: int, count: int) -> str:
    return f" [{index}/{count}]"


Span = tuple[int, int]


class _Sizer:
    """Tells whether a span of one text, plus `room` characters of suffix, fits the rule.

    The suffix is ASCII and starts with a space, so it ends any URL or mention and starts a new
    grapheme cluster: under every rule it adds at most its own length, and adding that length
    instead of measuring text + suffix lets measures be remembered across packing passes,
    which ask about the same sentences and words again for each suffix width.
    """

    def __init__(self, rule: TextRule, text: str) -> None:
        self.rule = rule
        self.text = text
        self.whole = (0, len(text))
        self._weights: dict[Span, int] = {}
        self._clusters: dict[Span, list[Span]] = {}

    def fits(self, span: Span, room: int) -> bool:
        start, end = span
        limit = self.rule.limit - room
        if (end - start) * _MAX_COST <= limit:
            return True  # Bluesky's byte cap is far above this too
        byte_limit = self.rule.byte_limit
        if byte_limit is not None and _utf8_size(self.text[start:end]) + room > byte_limit:
            return False
        return self.weight(span) <= limit

    def weight(self, span: Span) -> int:
        if span not in self._weights:
            self._weights[span] = measure(self.rule.platform, self.text[span[0] : span[1]])
        return self._weights[span]

    def clusters(self, span: Span) -> list[Span]:
        if span not in self._clusters:
            self._clusters[span] = [m.span() for m in _GRAPHEME.finditer(self.text, *span)]
        return self._clusters[span]


def _pack_all(sizers: list[_Sizer], room: int) -> list[str]:
    return [part for sizer in sizers for part in _pack(sizer, room)]


def _pack(sizer: _Sizer, room: int) -> list[str]:
    """Greedily join atoms of the text into parts that fit with `room` to spare."""
    if sizer.fits(sizer.whole, room):
        return [sizer.text]
    atoms = list(_atoms(sizer, room))
    runs = _runs(lambda first, end: sizer.fits((atoms[first][0], atoms[end - 1][1]), room), atoms)
    return [sizer.text[atoms[first][0] : atoms[end - 1][1]] for first, end in runs]


def _atoms(sizer: _Sizer, room: int) -> Iterator[Span]:
    """Spans of the text that each fit alone: sentences, else their words, else word fragments.

    Spans never start or end with whitespace, and the text between two spans is whitespace,
    so a run of consecutive spans is a part, with the original whitespace between its pieces.
    """
    for sentence in _sentences(sizer.text):
        if sizer.fits(sentence, room):
            yield sentence
            continue
        for word in _WORD.finditer(sizer.text, *sentence):
            if sizer.fits(word.span(), room):
                yield word.span()
            else:
                yield from _hard_cut(sizer, word.span(), room)


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


def _hard_cut(sizer: _Sizer, word: Span, room: int) -> Iterator[Span]:
    """Cut an over-long word at grapheme cluster boundaries into spans that fit."""
    units = list(_grapheme_units(sizer, word, room))
    runs = _runs(lambda first, end: sizer.fits((units[first][0], units[end - 1][1]), room), units)
    for first, end in runs:
        yield units[first][0], units[end - 1][1]


def _grapheme_units(sizer: _Sizer, word: Span, room: int) -> Iterator[Span]:
    # A cluster that cannot fit even alone (hundreds of stacked combining marks) is, as a last
    # resort, cut into code points: the alternative would be refusing to post at all.
    for start, end in sizer.clusters(word):
        if sizer.fits((start, end), room):
            yield start, end
        else:
            yield from ((index, index + 1) for index in range(start, end))


def _runs(run_fits: Callable[[int, int], bool], units: list[Span]) -> Iterator[Span]:
    """Split `units` into consecutive runs [first, end), each as long as `run_fits` allows.

    A run of one unit is taken even when it does not fit, so that this always terminates; the
    callers only pass units that fit alone. Each search starts from the previous run's length
    (runs are alike) and gallops then bisects, so a run costs a few measurements of itself
    rather than one per unit, which keeps 100k-character texts fast.
    """
    first, width = 0, 1
    while first < len(units):
        end = _run_end(run_fits, first, len(units), first + width)
        yield first, end
        first, width = end, end - first


def _run_end(run_fits: Callable[[int, int], bool], first: int, count: int, guess: int) -> int:
    # Invariant: the run [first, good) fits (one unit is taken as fitting) and [first, bad) not.
    good, bad = first + 1, count + 1
    guess = min(guess, count)
    if guess > good:
        if run_fits(first, guess):
            good = guess
        else:
            bad = guess
    step = 1
    while bad == count + 1 and good < count:  # gallop up
        probe = min(good + step, count)
        if run_fits(first, probe):
            good, step = probe, step * 2
        else:
            bad = probe
    while bad - good > 1:  # gallop down, then bisect
        probe = max(bad - step, (good + bad) // 2)
        if run_fits(first, probe):
            good = probe
        else:
            bad, step = probe, step * 2
    return good
