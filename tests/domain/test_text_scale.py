"""Thread planning of content at Herald's maximum size: whole graphemes, every part fitting.

Planning used to be super-linear on long runs of regional indicators (flags): a hundred
thousand characters of them took minutes. How fast planning is, is measured by
bench/text_planning.py, never here."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import regex

from herald.domain.platform import Platform
from herald.domain.text import CONTENT_MAX_CHARACTERS, fits, plan_parts, text_rule

THREADING = [p for p in Platform if text_rule(p).threads]
FLAGS = "\U0001f1fa\U0001f1f8\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea\U0001f1ef\U0001f1f5"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
SUFFIX = re.compile(r" \[\d+/\d+\]\Z")


def _fill(unit: str, size: int = CONTENT_MAX_CHARACTERS) -> str:
    return unit * (size // len(unit))


def _bodies(platform: Platform, parts: list[str]) -> list[str]:
    if len(parts) > 1 and text_rule(platform).numbered:
        return [SUFFIX.sub("", part) for part in parts]
    return parts


def _starts_of_clusters(text: str) -> set[int]:
    starts, position = set(), 0
    for cluster in regex.findall(r"\X", text):
        starts.add(position)
        position += len(cluster)
    return starts


CASES = [
    ("flags", _fill(FLAGS), lambda i: i % 2 == 0),
    ("a lone indicator, then flags", "\U0001f1fa" + _fill(FLAGS), lambda i: i % 2 == 0),
    ("ZWJ families", _fill(FAMILY), lambda i: i % 7 == 0),
    ("combining marks", _fill("e\u0301\u0302"), lambda i: i % 3 == 0),
    ("flags in words", _fill("\U0001f1fa\U0001f1f8" * 200 + " "), lambda i: i % 401 % 2 == 0),
]


@pytest.mark.parametrize(("name", "content", "starts_cluster"), CASES)
def test_giant_content_is_cut_only_between_graphemes(
    name: str, content: str, starts_cluster: Callable[[int], bool]
) -> None:
    sample = content[:2000]
    assert _starts_of_clusters(sample) == set(filter(starts_cluster, range(len(sample))))
    plans = {platform: plan_parts(platform, content) for platform in THREADING}
    for platform, parts in plans.items():
        assert len(parts) > 1, (name, platform)
        assert all(fits(platform, part) for part in parts), (name, platform)
        bodies = _bodies(platform, parts)
        assert "".join("".join(bodies).split()) == "".join(content.split()), (name, platform)
        position = 0
        for body in bodies:
            position = content.index(body, position)
            assert starts_cluster(position), (name, platform, position)
            position += len(body)
            assert position == len(content) or starts_cluster(position), (name, platform)
