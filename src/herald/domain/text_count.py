"""How each platform counts the length of a text, in time linear in the text."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from typing import Literal

# `regex` ships no stubs; "unused-ignore" keeps this quiet where the mypy config ignores it too.
import regex  # type: ignore[import-untyped, unused-ignore]

from herald.domain.text_tlds import COUNTRY, GENERIC

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
# Directional formatting characters end a URL: they are not part of one (twitter-text).
_DIRECTIONAL = "\u202a-\u202e\u2066-\u2069"
_URL_RUN = regex.compile(rf'[^\s<>"{_DIRECTIONAL}]*+')
# Where a bare domain may be: a dot between a domain character and a letter or digit. Finding
# these first keeps prose without any (most text) off the slower per-run checks.
_DOMAIN_DOT = regex.compile(r"[A-Za-z0-9_]\.[A-Za-z0-9]")
_DOMAIN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_DOMAIN_RUN_END = regex.compile(r"[A-Za-z0-9_.-]*+")
# What may not stand before a bare domain (twitter-text's invalid preceding characters, and the
# `-_./` it refuses before a URL without protocol).
_NOT_BEFORE_DOMAIN = frozenset("@\uff20$#\uff03\u202a\u202b\u202c\u202d\u202e/") | _DOMAIN_CHARS
_PORT = regex.compile(r":[0-9]++(?![A-Za-z0-9_.-])")
_TLDS = GENERIC | COUNTRY
# A URL ends before trailing punctuation, such as the full stop of the sentence it ends, and is
# followed only by such punctuation and then whitespace or the end of the text.
_URL_TRAILING = frozenset(".,;:!?'\u2019\u201d\u2026)]}")
_URL_FOLLOWED = regex.compile(rf"""[.,;:!?'"\u2019\u201D\u2026)\]}}>]*+(?:\s|$|[{_DIRECTIONAL}])""")
_HOST_END = regex.compile(r"[/?#]")
MAX_LABEL = 63  # DNS: a label of a domain name has at most 63 octets
# A remote Mastodon mention `@user@domain`; Mastodon counts it as just `@user`.
_REMOTE_MENTION = regex.compile(
    r"(?<![\w@/=])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)@\w(?:[\w.-]*\w)?"
)
# A grapheme cluster that renders as an emoji: an emoji-presentation character, a pictograph or
# keycap base turned into emoji by VS16 / ZWJ / a skin tone / U+20E3. Flags (regional indicator
# pairs) and tag sequences start with emoji-presentation characters. X's emoji list (twemoji)
# also takes © and ® in text style: 2, not the 1 of their Latin-1 range.
_EMOJI_CLUSTER = regex.compile(
    rf"""(?=\p{{Emoji_Presentation}}
          |[\u00A9\u00AE]
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
    """The links of `text` as twitter-text finds them, leftmost first: http(s) URLs (a
    balanced "(...)" at the end is kept, for Wikipedia links) and bare domains ("example.com",
    see next_domain). One pass: each finder runs again only past the link last taken, and a
    backtracking pattern for the same rule took seconds on ten kilobytes of "https://a."."""
    url, domain = next_url(text, 0), next_domain(text, 0)
    while (link := min(filter(None, (url, domain)), default=None)) is not None:
        yield link
        if url is not None and url[0] < link[1]:
            url = next_url(text, link[1])
        if domain is not None and domain[0] < link[1]:
            domain = next_domain(text, link[1])


def next_url(text: str, position: int) -> Span | None:
    """The first http(s) URL that starts at or after `position`."""
    while (start := _URL_START.search(text, position)) is not None:
        body = start.end()
        run_end = _URL_RUN.match(text, body).end()
        end = _url_end(text, body, run_end)
        if end is not None and _valid_host(text, body, end):
            return start.start(), end
        # Any other start inside this run ends with the run too, and fails the same way.
        position = max(run_end, body)
    return None


def next_domain(text: str, position: int) -> Span | None:
    """The first bare domain at or after `position` that X links (twitter-text's URLs
    without protocol): ASCII labels ending in a known top-level domain, not glued to a word,
    `@`, `$`, `#`, `-`, `_`, `.` or `/` before it, with an optional port and path. X leaves
    a single label before a country code ("boo.jp") unlinked without a path; Herald counts it
    as a link all the same, since counting more than X only ever makes a part shorter."""
    while (dot := _DOMAIN_DOT.search(text, position)) is not None:
        start, run_end = dot.start(), _DOMAIN_RUN_END.match(text, dot.start()).end()
        while start > position and text[start - 1] in _DOMAIN_CHARS:
            start -= 1  # back to the start of the run, never into one already looked at
        glued = start > 0 and text[start - 1] in _NOT_BEFORE_DOMAIN
        if not glued and text[start].isascii() and text[start].isalnum():
            found = _domain_in(text, start, run_end)
            if found is not None:
                return found
        position = run_end
    return None


def _domain_in(text: str, start: int, run_end: int) -> Span | None:
    labels = text[start:run_end].split(".")
    offsets, position = [], start
    for label in labels:
        offsets.append(position)
        position += len(label) + 1
    # The longest run of valid labels that ends in a top-level domain: every label before the
    # top-level one is valid, so it stands at or before the first invalid label.
    first_bad = next((i for i, label in enumerate(labels) if not _label(label)), len(labels))
    for last in range(min(len(labels) - 1, first_bad), 0, -1):
        if labels[last].lower() not in _TLDS:
            continue
        if "_" in labels[last - 1]:  # only subdomains may hold an underscore
            continue
        end = offsets[last] + len(labels[last])
        if end == run_end and run_end < len(text) and text[run_end] in "@+":
            continue  # twitter-text: a domain is not followed by `@` or `+`
        return _with_port_and_path(text, start, end)
    return None


def _with_port_and_path(text: str, start: int, end: int) -> Span:
    port = _PORT.match(text, end)
    if port is not None:
        end = port.end()
    if end < len(text) and text[end] == "/":
        run_end = _URL_RUN.match(text, end).end()
        path_end = _url_end(text, end, run_end)
        if path_end is not None:
            return start, path_end
    return start, end


def _label(label: str) -> bool:
    return 0 < len(label) <= MAX_LABEL and label[0] != "-" and label[-1] != "-"


def _valid_host(text: str, body: int, end: int) -> bool:
    """No label of the URL's host is longer than DNS allows, a non-ASCII one counted as the
    punycode form X checks ("xn--" and its encoding)."""
    found = _HOST_END.search(text, body, end)
    host = text[body : found.start() if found else end].rsplit("@", 1)[-1]
    if host.startswith("["):  # an IPv6 literal
        return True
    for label in host.rsplit(":", 1)[0].split("."):
        size = len(label) if label.isascii() else 4 + len(label.encode("punycode"))
        if size > MAX_LABEL:
            return False
    return True


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
