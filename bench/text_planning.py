"""How long planning a thread takes for content far over any limit, and how it grows with size.

Thread planning (herald.domain.text.plan_parts) once took minutes for 100,000 characters of
flags: regional indicators made regex's \\X quadratic, and the planner re-measured growing
slices of the text. This plans, for every platform that threads, three kinds of text that
stress grapheme segmentation, each one "word" with no space to split at, so that every part
is a hard cut between graphemes:

- flags: regional-indicator pairs (four different flags in turn);
- ZWJ emoji: family, couple and profession sequences joined by U+200D;
- combining marks: Latin letters each carrying two combining accents.

Each is planned at 256 KiB and at 1 MiB of UTF-8, and so is 64 KiB of ASCII prose. Figures
are CPU seconds of this process (time.process_time, best of --repeat), so that other work on a
shared machine does not count. If planning is linear, "1M/256K" is about 4, and "vs ASCII"
(1 MiB of the kind against 64 KiB of ASCII) is about 16 times a constant that says how much
dearer these graphemes are than ASCII. Herald's API takes at most 100,000 characters.

Usage: python bench/text_planning.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time

from _harness import source_digest

from herald.domain.platform import Platform
from herald.domain.text import plan_parts, text_rule

KIB = 1024
KINDS = {
    "flags": "\U0001f1fa\U0001f1f8\U0001f1eb\U0001f1f7\U0001f1ef\U0001f1f5\U0001f1e7\U0001f1f7",
    "ZWJ emoji": (
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
        "\U0001f469\u200d\u2764\ufe0f\u200d\U0001f468"
        "\U0001f9d1\U0001f3fd\u200d\U0001f4bb"
    ),
    "combining marks": "a\u0301\u0323e\u0300\u0331o\u0302\u0330",
}
PROSE = (
    "Herald plans each post for every platform it goes to. Long text becomes a thread, "
    "split at sentence ends where it can be, and at spaces where it must!\n"
)
THREADING = [platform for platform in Platform if text_rule(platform).threads]


def fill(unit: str, size: int) -> str:
    """`unit` repeated to `size` bytes of UTF-8, in whole units."""
    return unit * (size // len(unit.encode()))


def cpu_seconds(platform: Platform, content: str, repeat: int) -> tuple[float, int]:
    best, parts = float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()
        parts = len(plan_parts(platform, content))
        best = min(best, time.process_time() - started)
    return best, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best counts")
    args = parser.parse_args()
    print(f"CPUs {os.cpu_count()}; best of {args.repeat}; herald sources {source_digest()}")
    ascii_text = fill(PROSE, 64 * KIB)
    baseline = {p: cpu_seconds(p, ascii_text, args.repeat) for p in THREADING}
    print(f"\n64 KiB of ASCII prose ({len(ascii_text):,} characters):")
    for platform, (seconds, parts) in baseline.items():
        print(f"  {platform.value:9} {seconds * 1000:8.1f} ms  {parts:5} parts")
    for kind, unit in KINDS.items():
        small, large = fill(unit, 256 * KIB), fill(unit, 1024 * KIB)
        print(
            f"\n{kind}: 256 KiB ({len(small):,} characters) and 1 MiB ({len(large):,} characters)"
        )
        print(f"  {'':9} {'256 KiB':>10} {'1 MiB':>10} {'1M/256K':>8} {'vs ASCII':>9}  parts")
        for platform in THREADING:
            small_s, _ = cpu_seconds(platform, small, args.repeat)
            large_s, parts = cpu_seconds(platform, large, args.repeat)
            growth = large_s / small_s if small_s else float("nan")
            versus = large_s / baseline[platform][0] if baseline[platform][0] else float("nan")
            print(
                f"  {platform.value:9} {small_s * 1000:7.1f} ms {large_s * 1000:7.1f} ms "
                f"{growth:7.1f}x {versus:8.1f}x  {parts}"
            )


if __name__ == "__main__":
    main()
