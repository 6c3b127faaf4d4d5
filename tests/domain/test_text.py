"""Tests for per-platform text measuring and thread splitting (herald.domain.text)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.platform import Platform
from herald.domain.text import TextTooLongError, fits, measure, plan_parts, text_rule

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 7 code points, 25 bytes
FLAG_US = "\U0001f1fa\U0001f1f8"
THUMBS_UP_DARK = "\U0001f44d\U0001f3ff"
KEYCAP_ONE = "1\ufe0f\u20e3"
LONG_URL = "https://example.com/" + "a" * 200
THREADING = [p for p in Platform if text_rule(p).threads]
SUFFIX = re.compile(r" \[(\d+)/(\d+)\]\Z")
BREAK_LINE = re.compile(r"^[ \t]*---[ \t]*\r?$", re.MULTILINE)


def without_suffixes(parts: list[str]) -> list[str]:
    """The parts with their " [i/N]" suffixes removed, checking each is the expected one."""
    stripped = []
    for index, part in enumerate(parts, 1):
        suffix = f" [{index}/{len(parts)}]"
        assert part.endswith(suffix), part
        stripped.append(part.removesuffix(suffix))
    return stripped


def sentences(count: int, words: int = 9) -> str:
    return " ".join(
        f"Sentence {n} " + " ".join(f"word{n}x{w}" for w in range(words)) + "."
        for n in range(count)
    )


# --- rules -------------------------------------------------------------------------------


def test_every_platform_has_a_rule() -> None:
    for platform in Platform:
        assert text_rule(platform).platform is platform


@pytest.mark.parametrize(
    ("platform", "limit", "threads", "numbered", "byte_limit"),
    [
        (Platform.TWITTER, 280, True, True, None),
        (Platform.THREADS, 500, True, False, None),
        (Platform.BLUESKY, 300, True, True, 3000),
        (Platform.MASTODON, 500, True, True, None),
        (Platform.SANDBOX, 500, True, True, None),
        (Platform.LINKEDIN, 3000, False, False, None),
        (Platform.INSTAGRAM, 2200, False, False, None),
        (Platform.TIKTOK, 2200, False, False, None),
        (Platform.YOUTUBE, 5000, False, False, None),
        (Platform.FACEBOOK, 63206, False, False, None),
        (Platform.TELEGRAM, 4096, False, False, None),
    ],
)
def test_rule_values(
    platform: Platform, limit: int, threads: bool, numbered: bool, byte_limit: int | None
) -> None:
    rule = text_rule(platform)
    assert (rule.limit, rule.threads, rule.numbered, rule.byte_limit) == (
        limit,
        threads,
        numbered,
        byte_limit,
    )
    assert rule.counting


# --- measuring ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello world", 11),
        ("https://example.com", 23),
        (LONG_URL, 23),
        ("http://x.co", 23),
        ("see https://example.com/a.", 4 + 23 + 1),  # the full stop is not part of the URL
        ("(https://example.com/a)", 1 + 23 + 1),
        ("https://en.wikipedia.org/wiki/Rust_(programming_language)", 23),
        ("\U0001f600", 2),
        (FAMILY, 2),
        (FLAG_US, 2),
        (THUMBS_UP_DARK, 2),
        (KEYCAP_ONE, 2),
        ("\u2764\ufe0f", 2),
        ("日本語", 6),
        ("café", 4),
        ("cafe\u0301", 4),  # NFC first, as twitter-text does
        ("\u201cquoted\u201d", 8),  # U+2010..U+201F weigh 1
        ("Hi \U0001f44b https://x.com 日本", 2 + 1 + 2 + 1 + 23 + 1 + 4),
    ],
)
def test_x_weighted_counts(text: str, expected: int) -> None:
    assert measure(Platform.TWITTER, text) == expected


def test_x_limit_is_280_weighted() -> None:
    assert fits(Platform.TWITTER, "a" * 280)
    assert not fits(Platform.TWITTER, "a" * 281)
    assert fits(Platform.TWITTER, "日" * 140)
    assert not fits(Platform.TWITTER, "日" * 141)
    assert fits(Platform.TWITTER, FAMILY * 140)
    assert not fits(Platform.TWITTER, FAMILY * 141)
    assert fits(Platform.TWITTER, " ".join([LONG_URL] * 11))  # 11 * 23 + 10 = 263


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("https://example.com/" + "a" * 600, 23),
        ("@alice@mastodon.social", len("@alice")),
        ("hi @alice@mastodon.social!", len("hi @alice!")),
        ("@alice", 6),
        ("mail me: alice@example.com", 26),  # not a mention: no leading @
        (FAMILY, 1),
        (FLAG_US + FLAG_US, 2),
        ("cafe\u0301", 4),
        ("Ask @bob@example.social: https://example.com/x?y=1", 4 + 4 + 2 + 23),
    ],
)
def test_mastodon_counts(text: str, expected: int) -> None:
    assert measure(Platform.MASTODON, text) == expected


def test_an_account_limit_replaces_the_platform_limit() -> None:
    content = "word " * 150  # 750 characters
    assert len(plan_parts(Platform.MASTODON, content)) == 2
    assert plan_parts(Platform.MASTODON, content, limit=1000) == [content]
    assert len(plan_parts(Platform.MASTODON, content * 2, limit=1000)) == 2
    with pytest.raises(TextTooLongError) as caught:
        plan_parts(Platform.TELEGRAM, "x" * 101, limit=100)
    assert caught.value.limit == 100


def test_mastodon_limit() -> None:
    url_heavy = " ".join([LONG_URL] * 20)  # 20 * 23 + 19 = 479 despite 4000+ code points
    assert measure(Platform.MASTODON, url_heavy) == 479
    assert fits(Platform.MASTODON, url_heavy)
    assert fits(Platform.MASTODON, "a" * 500)
    assert not fits(Platform.MASTODON, "a" * 501)


def test_bluesky_counts_graphemes() -> None:
    assert measure(Platform.BLUESKY, FAMILY) == 1
    assert measure(Platform.BLUESKY, "cafe\u0301") == 4
    assert measure(Platform.BLUESKY, LONG_URL) == len(LONG_URL)  # no URL shortening
    assert fits(Platform.BLUESKY, "a" * 300)
    assert not fits(Platform.BLUESKY, "a" * 301)
    assert fits(Platform.BLUESKY, FAMILY * 120)  # 3000 bytes exactly


def test_bluesky_byte_cap() -> None:
    text = FAMILY * 300
    assert measure(Platform.BLUESKY, text) == 300  # within the grapheme limit...
    assert len(text.encode()) == 7500
    assert not fits(Platform.BLUESKY, text)  # ...but over 3000 bytes
    assert not fits(Platform.BLUESKY, FAMILY * 121)


def test_threads_counts_code_points() -> None:
    assert measure(Platform.THREADS, FAMILY) == 7
    assert measure(Platform.THREADS, LONG_URL) == len(LONG_URL)
    assert fits(Platform.THREADS, "日" * 500)
    assert not fits(Platform.THREADS, "日" * 501)


def test_sandbox_counts_graphemes() -> None:
    assert measure(Platform.SANDBOX, FAMILY + "ab") == 3
    assert fits(Platform.SANDBOX, FAMILY * 500)
    assert not fits(Platform.SANDBOX, "a" * 501)


@pytest.mark.parametrize(
    ("platform", "limit"),
    [
        (Platform.LINKEDIN, 3000),
        (Platform.INSTAGRAM, 2200),
        (Platform.TIKTOK, 2200),
        (Platform.YOUTUBE, 5000),
        (Platform.FACEBOOK, 63206),
    ],
)
def test_code_point_platforms_at_and_over_limit(platform: Platform, limit: int) -> None:
    assert measure(platform, FAMILY) == 7
    at_limit = "b" * limit
    assert fits(platform, at_limit)
    assert plan_parts(platform, at_limit) == [at_limit]
    with pytest.raises(TextTooLongError) as caught:
        plan_parts(platform, at_limit + "c")
    assert str(caught.value) == (
        f"Content too long for {platform.value}: {limit + 1} characters, the limit is {limit}"
    )
    assert (caught.value.platform, caught.value.limit, caught.value.length) == (
        platform,
        limit,
        limit + 1,
    )


def test_telegram_counts_utf16_code_units_as_it_offsets_entities() -> None:
    # The family emoji: 4 people outside the BMP (2 units each) joined by 3 ZWJs = 11 units.
    assert measure(Platform.TELEGRAM, FAMILY) == 11
    at_limit = "b" * 4094 + "😀"
    assert plan_parts(Platform.TELEGRAM, at_limit) == [at_limit]
    with pytest.raises(TextTooLongError) as caught:
        plan_parts(Platform.TELEGRAM, "b" * 4095 + "😀")  # 4,096 code points, 4,097 units
    assert caught.value.length == 4097


def test_too_long_error_message() -> None:
    with pytest.raises(ValueError, match=r"^Content too long for linkedin: 3005 characters, "):
        plan_parts(Platform.LINKEDIN, "x" * 3005)
    error = TextTooLongError(Platform.INSTAGRAM, 2200, 2500)
    assert str(error) == "Content too long for instagram: 2500 characters, the limit is 2200"


def test_non_threading_platform_keeps_long_lines_and_breaks() -> None:
    content = "First\n---\nSecond"
    assert plan_parts(Platform.TELEGRAM, content) == [content]


# --- planning parts ----------------------------------------------------------------------


@pytest.mark.parametrize("platform", THREADING)
def test_fitting_content_is_returned_unchanged(platform: Platform) -> None:
    content = "  Hello there.\n\nSecond paragraph with a link https://example.com  "
    assert plan_parts(platform, content) == [content]


@pytest.mark.parametrize("platform", THREADING)
def test_exactly_at_limit_is_one_part(platform: Platform) -> None:
    content = "a" * text_rule(platform).limit
    assert plan_parts(platform, content) == [content]
    assert len(plan_parts(platform, content + "a")) == 2


def test_content_fitting_only_once_stripped_is_one_stripped_part() -> None:
    content = "\n" + "a" * 280 + "  \n"
    assert plan_parts(Platform.TWITTER, content) == ["a" * 280]


def test_twitter_splits_at_sentence_ends_with_numbering() -> None:
    content = sentences(12)
    parts = plan_parts(Platform.TWITTER, content)
    assert len(parts) > 2
    assert all(fits(Platform.TWITTER, part) for part in parts)
    bodies = without_suffixes(parts)
    assert all(body.startswith("Sentence ") and body.endswith(".") for body in bodies)
    assert " ".join(bodies) == content
    # Greedy: no part could have taken the next part's first sentence.
    for index, body in enumerate(bodies[:-1], 1):
        next_sentence = bodies[index].split(". ")[0] + "."
        longer = f"{body} {next_sentence} [{index}/{len(parts)}]"
        assert not fits(Platform.TWITTER, longer)


def test_newlines_are_break_points_and_kept_inside_parts() -> None:
    lines = [f"line {n} " + "x" * 40 for n in range(20)]
    content = "\n".join(lines)
    parts = plan_parts(Platform.TWITTER, content)
    bodies = without_suffixes(parts)
    assert all("\n" in body for body in bodies)
    assert "\n".join(bodies) == content
    assert all(body.startswith("line ") for body in bodies)


def test_sentence_end_with_closing_quote_is_a_break() -> None:
    sentence = "He said \u201c" + "word " * 40 + "done.\u201d"
    content = " ".join([sentence] * 3)
    bodies = without_suffixes(plan_parts(Platform.TWITTER, content))
    assert bodies == [sentence] * 3


def test_threads_platform_gets_no_suffix() -> None:
    content = sentences(30)
    parts = plan_parts(Platform.THREADS, content)
    assert len(parts) > 1
    assert all(len(part) <= 500 for part in parts)
    assert not any(SUFFIX.search(part) for part in parts)
    assert " ".join(parts) == content


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("First part\n---\nSecond part", ["First part [1/2]", "Second part [2/2]"]),
        ("First part\n  ---\t\nSecond part", ["First part [1/2]", "Second part [2/2]"]),
        ("First\r\n---\r\nSecond", ["First [1/2]", "Second [2/2]"]),
        ("---\nOne\n---\n\n---\n  \n---\nTwo\n---", ["One [1/2]", "Two [2/2]"]),
        ("Only one\n---\n", ["Only one"]),
        ("---\n\n  Only one  \n\n---", ["Only one"]),
        ("a --- b\n----\nc", ["a --- b\n----\nc"]),  # not lines of exactly ---
    ],
)
def test_explicit_breaks(content: str, expected: list[str]) -> None:
    assert plan_parts(Platform.TWITTER, content) == expected


def test_explicit_breaks_without_numbering_on_threads() -> None:
    assert plan_parts(Platform.THREADS, "One\n---\nTwo\n---\nThree") == ["One", "Two", "Three"]


def test_explicit_segment_that_is_too_long_is_split_further() -> None:
    content = "Intro.\n---\n" + sentences(8)
    parts = plan_parts(Platform.TWITTER, content)
    assert parts[0] == f"Intro. [1/{len(parts)}]"
    assert len(parts) > 3
    assert all(fits(Platform.TWITTER, part) for part in parts)


def test_only_break_lines_give_no_parts() -> None:
    assert plan_parts(Platform.TWITTER, "---\n  \n---") == []


def test_long_sentence_is_split_at_spaces() -> None:
    content = " ".join(f"w{n:03}" for n in range(200))  # one sentence, 999 characters
    bodies = without_suffixes(plan_parts(Platform.TWITTER, content))
    assert len(bodies) == 4
    assert all(re.fullmatch(r"w\d{3}( w\d{3})*", body) for body in bodies)
    assert " ".join(bodies) == content


def test_giant_word_is_cut_at_grapheme_boundaries() -> None:
    content = FAMILY * 400  # one "word"; X weighs each family 2, so 800 in all
    parts = plan_parts(Platform.TWITTER, content)
    bodies = without_suffixes(parts)
    assert len(parts) == 3
    assert all(fits(Platform.TWITTER, part) for part in parts)
    for body in bodies:
        assert body == FAMILY * (len(body) // len(FAMILY))  # never inside a ZWJ family
    assert "".join(bodies) == content


def test_bluesky_byte_cap_splits_emoji_whole() -> None:
    content = FAMILY * 300  # 300 graphemes but 7500 bytes
    parts = plan_parts(Platform.BLUESKY, content)
    assert len(parts) == 3
    for part in parts:
        assert len(part.encode()) <= 3000
        assert fits(Platform.BLUESKY, part)
    bodies = without_suffixes(parts)
    assert all(body == FAMILY * (len(body) // len(FAMILY)) for body in bodies)
    assert "".join(bodies) == content


def test_huge_grapheme_cluster_is_cut_as_a_last_resort() -> None:
    zalgo = "a" + "\u0301" * 400  # one grapheme cluster weighing 401 on X
    parts = plan_parts(Platform.TWITTER, zalgo)
    assert len(parts) == 2
    assert all(fits(Platform.TWITTER, part) for part in parts)
    assert "".join(without_suffixes(parts)) == zalgo


def test_suffix_width_repack() -> None:
    # Each sentence fits with a one-digit suffix (274 + " [9/9]" = 280) but not with the
    # two-digit one that 10+ parts need, so a first pass would give 10 parts that overflow.
    sentence = "z" * 272 + "."
    assert len(sentence + " [9/9]") == 279
    content = " ".join(f"{n}{sentence}" for n in range(10))
    parts = plan_parts(Platform.TWITTER, content)
    assert len(parts) >= 10
    assert parts[9].endswith(f" [10/{len(parts)}]")
    assert all(fits(Platform.TWITTER, part) for part in parts)
    assert "".join(without_suffixes(parts)).replace(" ", "") == content.replace(" ", "")


def test_many_parts_are_full_and_fit() -> None:
    content = " ".join("a" for _ in range(1700))  # 3399 characters: a dozen parts
    parts = plan_parts(Platform.TWITTER, content)
    assert len(parts) == 13
    assert parts[-1].endswith(" [13/13]")
    for part in parts:
        assert fits(Platform.TWITTER, part)
    for part in parts[:-1]:
        assert len(part) >= 278  # full up to the last word that fits


def test_the_longest_content_plans_into_parts_that_fit() -> None:
    """How fast this goes is bench/text_planning.py's question; here, that the result is right."""
    chunk = f"Hello {FAMILY} world, see https://example.com/page and 日本語. Another line!\n"
    content = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    for platform in THREADING:
        parts = plan_parts(platform, content)
        assert all(fits(platform, part) for part in parts)
    parts = plan_parts(Platform.TWITTER, "x" * 100_000)
    assert len(parts) == -(-100_000 // 270)  # room for " [999/999]" in each


# --- properties --------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["a", "word", "longerword", "日本語", "café", "cafe\u0301", "@alice@mastodon.social", "—"]
)
EMOJI = st.sampled_from([FAMILY, FLAG_US, THUMBS_UP_DARK, KEYCAP_ONE, "\U0001f600", "\u2764\ufe0f"])
URLS = st.sampled_from(["https://example.com", LONG_URL, "http://x.co/a_(b)", "https://t.co/x."])
ENDS = st.sampled_from([".", "!", "?", "\u2026", ".\u201d", "?)"])
SPACES = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", "\t", " \n ", "\u3000"])
TOKENS = st.one_of(WORDS, EMOJI, URLS, ENDS, st.text(max_size=12), st.text("ab \n", max_size=40))
BIG_WORD = st.lists(
    st.sampled_from(["x", "日", FAMILY, "e\u0301", "\u0301"]), min_size=100, max_size=500
).map("".join)


@st.composite
def contents(draw: st.DrawFn) -> str:
    """Mixtures of words, emoji, URLs, sentence ends, odd text; in half of them, giant words.

    A drawn stretch is repeated a few times, so that most examples need several parts.
    """
    tokens = st.one_of(TOKENS, BIG_WORD) if draw(st.booleans()) else TOKENS
    pairs: list[tuple[str, str]] = draw(st.lists(st.tuples(tokens, SPACES), max_size=80))
    stretch = "".join(token + space for token, space in pairs)
    last: str = draw(TOKENS)
    return stretch * draw(st.integers(1, 12)) + last


@settings(max_examples=200, deadline=None, database=None)
@given(platform=st.sampled_from(THREADING), content=contents())
def test_parts_fit_and_keep_all_text(platform: Platform, content: str) -> None:
    parts = plan_parts(platform, content)
    rule = text_rule(platform)
    for part in parts:
        assert fits(platform, part)
    if BREAK_LINE.search(content):
        return
    if len(parts) > 1:
        assert all(part and part == part.strip() for part in parts)
    if len(parts) > 1 and rule.numbered:
        parts = without_suffixes(parts)
    assert "".join("".join(parts).split()) == "".join(content.split())
    if not content.strip():
        assert parts in ([content], [])
    else:
        assert parts
        assert all(part.strip() for part in parts)


@settings(max_examples=200, deadline=None, database=None)
@given(content=st.text())
def test_measure_is_total_and_fits_agrees(content: str) -> None:
    for platform in Platform:
        length = measure(platform, content)
        assert length >= 0
        rule = text_rule(platform)
        within_bytes = rule.byte_limit is None or len(content.encode()) <= rule.byte_limit
        assert fits(platform, content) == (length <= rule.limit and within_bytes)
