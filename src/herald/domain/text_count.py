"""How each platform counts the length of a text, in time linear in the text."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from typing import Literal

# `regex` ships no stubs; "unused-ignore" keeps this quiet where the mypy config ignores it too.
import regex  # type: ignore[import-untyped, unused-ignore]

# `regex` is used only for what the standard library lacks: grapheme clusters (`\X`, UAX #29)
# and emoji properties. Whitespace handling elsewhere uses `re`, whose `\s` agrees with
# `str.isspace()` and so with `str.strip()`; `regex`'s `\s` follows White_Space, which differs.
#
# `\X` alone is quadratic on a run of regional indicators (each flag half looks back over the
# whole run to find its partner), so a pair of them, with what attaches to a pair (GB9, GB9a),
# is matched first. A match always starts a cluster, and inside a run that is always an even
# number of indicators from the run's start, so the pair is the cluster `\X` would find.
_RI_PAIR = r"[\U0001F1E6-\U0001F1FF]{2}[\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=SpacingMark}]*+"
GRAPHEME = regex.compile(rf"{_RI_PAIR}|\X")

# The start of an http(s) URL that is not glued to a preceding word (twitter-text, Mastodon).
_URL_START = regex.compile(r"(?<![\w@$\#])(?i:https?)://")
_URL_RUN = regex.compile(r'[^\s<>"]*+')
# A URL ends before trailing punctuation, such as the full stop of the sentence it ends, and is
# followed only by such punctuation and then whitespace or the end of the text.
_URL_TRAILING = frozenset(".,;:!?'\u2019\u201d\u2026)]}")
_URL_FOLLOWED = regex.compile(r"""[.,;:!?'"\u2019\u201D\u2026)\]}>]*+(?:\s|$)""")
# A remote Mastodon mention `@user@domain`; Mastodon counts it as just `@user`.
_REMOTE_MENTION = regex.compile(
    r"(?<![\w@/=])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)@\w(?:[\w.-]*\w)?"
)
# A grapheme cluster that renders as an emoji: an emoji-presentation character, a pictograph or
# keycap base turned into emoji by VS16 / ZWJ / a skin tone / U+20E3. Flags (regional indicator
# pairs) and tag sequences start with emoji-presentation characters.
_EMOJI_CLUSTER = regex.compile(
    rf"""(?=\p{{Emoji_Presentation}}
          |\p{{Extended_Pictographic}}[\uFE0F\u200D\p{{Emoji_Modifier}}]
          |[0-9\#*]\uFE0F?\u20E3)
        (?:{_RI_PAIR}|\X)""",
    regex.VERBOSE,
)
# Code points X weighs 1; everything else weighs 2 (twitter-text v3 config "ranges").
_X_HEAVY = regex.compile(r"[^\x00-\u10FF\u2000-\u200D\u2010-\u201F\u2032-\u2037]+")
URL_WEIGHT = 23  # X and Mastodon both count every URL as 23 characters, whatever its length.
_URL_PLACEHOLDER = "x" * URL_WEIGHT

Counting = Literal["code_points", "utf16", "graphemes", "x", "mastodon"]
Span = tuple[int, int]


def url_spans(text: str) -> Iterator[Span]:
    """The http(s) URLs of `text`, as twitter-text finds them (a balanced "(...)" at the end is
    kept, for Wikipedia links), found in one pass: a backtracking pattern for the same rule took
    seconds on ten kilobytes of "https://a." repeated."""
    url = next_url(text, 0)
    while url is not None:
        yield url
        url = next_url(text, url[1])


def next_url(text: str, position: int) -> Span | None:
    """The first URL that starts at or after `position`."""
    while (start := _URL_START.search(text, position)) is not None:
        body = start.end()
        run_end = _URL_RUN.match(text, body).end()
        end = _url_end(text, body, run_end)
        if end is not None:
            return start.start(), end
        # Any other start inside this run ends with the run too, and fails the same way.
        position = max(run_end, body)
    return None


def _url_end(text: str, body: int, run_end: int) -> int | None:
    if not _URL_FOLLOWED.match(text, run_end):
        return None  # e.g. a `<` after the run: no end of the run is followed by a space
    end = run_end
    while end > body and text[end - 1] in _URL_TRAILING:
        end -= 1
    # A "(...)" holding no parentheses may close the URL, trailing punctuation and all, if it
    # ends with the first ")" of the trailing part.
    closing = text.find(")", end, run_end)
    if closing >= 0:
        opening = text.rfind("(", body, closing)
        if opening >= 0 and text.find(")", opening, closing) < 0:
            return closing + 1
    return end if end > body else None


def _code_points(text: str) -> int:
    return len(text)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def graphemes(text: str) -> int:
    return len(GRAPHEME.findall(text))


def _x_code_point_weight(text: str) -> int:
    return len(text) + sum(map(len, _X_HEAVY.findall(text)))


def _replace(text: str, spans: Iterator[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end, replacement in spans:
        pieces += (text[position:start], replacement)
        position = end
    return "".join(pieces) + text[position:] if pieces else text


def _x_weighted(text: str) -> int:
    """twitter-text v3: NFC, then URLs 23 (t.co wrapping), emoji clusters 2, else per code point."""
    text = unicodedata.normalize("NFC", text)
    text = _replace(text, ((s, e, _URL_PLACEHOLDER) for s, e in url_spans(text)))
    emoji = _EMOJI_CLUSTER.findall(text)
    return _x_code_point_weight(text) - _x_code_point_weight("".join(emoji)) + 2 * len(emoji)


def mastodon_entities(text: str) -> Iterator[tuple[int, int, str]]:
    """URLs as 23 characters and `@user@domain` as `@user`, leftmost first, as one scan for
    either would find them (they cannot start at the same character)."""
    url, mention = next_url(text, 0), _REMOTE_MENTION.search(text)
    while url is not None or mention is not None:
        if url is not None and (mention is None or url[0] < mention.start()):
            start, end, replacement = url[0], url[1], _URL_PLACEHOLDER
        elif mention is not None:
            start, end, replacement = mention.start(), mention.end(), "@" + mention.group(1)
        yield start, end, replacement
        if url is not None and url[0] < end:
            url = next_url(text, end)
        if mention is not None and mention.start() < end:
            mention = _REMOTE_MENTION.search(text, end)


def _mastodon(text: str) -> int:
    """Mastodon's StatusLengthValidator: grapheme clusters, once URLs are made 23 characters
    and `@user@domain` mentions `@user`."""
    return graphemes(_replace(text, mastodon_entities(text)))


COUNTERS: dict[Counting, Callable[[str], int]] = {
    "code_points": _code_points,
    "utf16": _utf16_units,
    "graphemes": graphemes,
    "x": _x_weighted,
    "mastodon": _mastodon,
}
