"""X's weighted length against twitter-text's published conformance cases (validate.yml,
WeightedTweetsWithDiscountedEmojiCounterTest: the v3 configuration X uses, 280 weighted
characters, URLs 23, emoji 2), plus the bare-domain rules of its URL extraction."""

from __future__ import annotations

import pytest

from herald.domain.platform import Platform
from herald.domain.text import fits, measure, plan_parts
from herald.domain.text_count import url_spans

X_PART = "xxxxxxxxxx-"
CJK_160 = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。"  # noqa: RUF001 (the conformance text as published)
    "旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"  # noqa: RUF001 (the conformance text as published)
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。"  # noqa: RUF001 (the conformance text as published)
    "遥知兄弟登高处，遍插茱萸少一人。"  # noqa: RUF001 (the conformance text as published)
)
KANA_20 = "あいうえおかきくけこ" * 2
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
PUNCTUATION = (
    "This is a tweet with general punctuation characters: "
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d "
    "‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷"  # noqa: RUF001 (the conformance text as published)
)

CONFORMANCE = [
    ("285 chars-" + X_PART * 25, 285),
    ("285 chars- http://www.twitter.com/jack " + X_PART * 24, 299),
    (X_PART * 24 + " http://www.twitter.com/jack ", 289),
    ("https://www.twitter.com/aloha " * 10, 240),
    (CJK_160, 320),
    ("\U0001f637" * 160, 320),
    ("the" + CJK_160, 323),
    ("A\u0301B", 2),  # "ÁB" decomposed: NFC makes it one character
    ("A\ufb2c", 4),  # NFC turns the ligature into three code points
    ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
    (PUNCTUATION, 112),
    ("randomurl" * 7 + "s.com", 68),  # a 64-character label: no domain, no link
    (
        KANA_20 * 6 + " http://" + KANA_20 * 2 + "あいうえおかきくけこあいう.com",
        358,
    ),
    (
        KANA_20 * 6 + " http://" + KANA_20 * 2 + "あいうえおかきくけこあい.com",
        264,
    ),
    (FAMILY * 140, 280),
    ("1\u20e3", 2),
    (f"Unicode 10.0 emoji: \U0001f92a; \U0001f9d5; \U0001f9d5\U0001f3fe; {ENGLAND}", 34),
    ("Unicode 9.0 emoji: \U0001f920; \U0001f483; \U0001f483\U0001f3fe", 29),
    ("\u2066\u202ahttp://foobar.\u067e\u0627\u06a9\u0633\u062a\u0627\u0646/\u202c\u2069", 31),
    # validate.yml "lengths" (protocol-less URLs count 23 too)
    ("test.com", 23),
    # twemoji, which twitter-text v3 counts emoji with, lists © and ® in text style too
    ("\u00a9 2026 \u00ae", 10),
    ("Test https://test.com test https://test.com test.com test", 86),
]


@pytest.mark.parametrize(("text", "expected"), CONFORMANCE)
def test_weighted_length_matches_twitter_text_conformance(text: str, expected: int) -> None:
    assert measure(Platform.TWITTER, text) == expected


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("see example.com/path.", ["example.com/path"]),
        ("www.example.co.jp and foo.co.jp", ["www.example.co.jp", "foo.co.jp"]),
        ("example.com:8080/login ok", ["example.com:8080/login"]),
        ("(example.com)", ["example.com"]),
        ("日本example.com中国", ["example.com"]),
        ("test_underscore.twitter.com", ["test_underscore.twitter.com"]),
        ("e.g. Node.js 1.5 v2.0", []),  # no top-level domain
        ("user@example.com", []),  # an address, not a link
        ("a-example.com -x.com _y.com /z.com", ["a-example.com"]),
        ("http://a.com/b and b.org", ["http://a.com/b", "b.org"]),
        ("https://" + "a" * 64 + ".com/x", []),  # a label over 63 characters
    ],
)
def test_bare_domains_count_as_links(text: str, links: list[str]) -> None:
    assert [text[start:end] for start, end in url_spans(text)] == links


def test_a_thread_part_never_exceeds_280_when_it_names_bare_domains() -> None:
    content = " ".join(f"See site{n}.com for part {n}." for n in range(60))
    parts = plan_parts(Platform.TWITTER, content)
    assert len(parts) > 1
    assert all(fits(Platform.TWITTER, part) for part in parts)
    assert all(measure(Platform.TWITTER, part) <= 280 for part in parts)
