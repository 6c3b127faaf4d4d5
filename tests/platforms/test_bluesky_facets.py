"""Facet detection: links, hashtags and mentions at UTF-8 byte offsets, by the app's rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from herald.platforms.bluesky.facets import (
    LINK,
    MENTION,
    TAG,
    Span,
    facets,
    find_spans,
    mentioned_handles,
)


def values(text: str, kind: str) -> list[str]:
    return [span.value for span in find_spans(text) if span.kind == kind]


def test_offsets_are_utf8_bytes_after_emoji_and_cjk() -> None:
    # The family emoji is 5 code points and 18 bytes; each CJK character 3 bytes.
    text = "👨‍👩‍👧 日本語 #東京 https://example.com/a. @alice.test"
    assert find_spans(text) == [
        Span(TAG, 29, 36, "東京"),
        Span(LINK, 37, 58, "https://example.com/a"),
        Span(MENTION, 60, 71, "alice.test"),
    ]
    encoded = text.encode()
    assert [encoded[s.byte_start : s.byte_end].decode() for s in find_spans(text)] == [
        "#東京",
        "https://example.com/a",
        "@alice.test",
    ]


def test_links_lose_the_sentences_punctuation_but_keep_balanced_parentheses() -> None:
    text = (
        "See https://en.wikipedia.org/wiki/Bee_(disambiguation). "
        "(also https://example.com/x?q=1&r=2), "
        'or "HTTPS://Example.com/Caps"! ftp://no.example and xhttps://no.example'
    )
    assert values(text, LINK) == [
        "https://en.wikipedia.org/wiki/Bee_(disambiguation)",
        "https://example.com/x?q=1&r=2",
        "HTTPS://Example.com/Caps",
    ]


def test_hashtags_follow_the_apps_rules() -> None:
    text = "#start mid#word #123 #1st #tag. #dash-ed! \uff03full #️⃣ # alone #日本語"
    assert values(text, TAG) == ["start", "1st", "tag", "dash-ed", "full", "日本語"]


def test_a_hashtag_longer_than_64_graphemes_is_plain_text() -> None:
    assert values("#" + "a" * 64, TAG) == ["a" * 64]
    assert values("#" + "a" * 65, TAG) == []
    # 64 emoji: 64 graphemes however many code points each has.
    assert values("#" + "👍🏽" * 64, TAG) == ["👍🏽" * 64]


def test_the_facet_of_a_trimmed_hashtag_ends_with_the_tag() -> None:
    [span] = find_spans("go #team!!")
    assert (span.byte_start, span.byte_end) == (3, 8)


def test_mentions_need_a_domain_and_a_word_start() -> None:
    text = (
        "@Alice.Test, (@bob.example.com) mail me@example.com @carol "
        "@dave.test. @eve.test_x @x-y.bsky.social"
    )
    assert values(text, MENTION) == [
        "alice.test",
        "bob.example.com",
        "dave.test",
        "x-y.bsky.social",
    ]


def test_urls_with_fragments_and_at_signs_are_one_link() -> None:
    text = "https://example.com/@bob.test/#frag"
    assert [span.kind for span in find_spans(text)] == [LINK]


def test_unresolved_mentions_get_no_facet() -> None:
    spans = find_spans("@alice.test and @nobody.test #tag")
    assert mentioned_handles(spans) == ["alice.test", "nobody.test"]
    assert facets(spans, {"alice.test": "did:plc:alice"}) == [
        {
            "index": {"byteStart": 0, "byteEnd": 11},
            "features": [{"$type": MENTION, "did": "did:plc:alice"}],
        },
        {"index": {"byteStart": 29, "byteEnd": 33}, "features": [{"$type": TAG, "tag": "tag"}]},
    ]


_PIECES = st.sampled_from(
    [
        "#tag",
        "#日本",
        "@alice.test",
        "https://example.com/x",
        "👨‍👩‍👧",
        "é",
        "語",
        " ",
        "\n",
        ".",
        "(",
        "#",
        "@",
    ]
)


@given(st.lists(_PIECES | st.text(max_size=3), max_size=30).map("".join))
def test_spans_are_ordered_disjoint_and_on_character_boundaries(text: str) -> None:
    encoded = text.encode("utf-8", "surrogatepass")
    previous_end = 0
    for span in find_spans(text):
        assert previous_end <= span.byte_start < span.byte_end <= len(encoded)
        piece = encoded[span.byte_start : span.byte_end].decode("utf-8", "surrogatepass")
        if span.kind == TAG:
            assert piece[0] in "#\uff03"
            assert piece[1:] == span.value
        elif span.kind == MENTION:
            assert piece[0] == "@"
            assert piece[1:].lower() == span.value
        else:
            assert piece == span.value
        previous_end = span.byte_end
