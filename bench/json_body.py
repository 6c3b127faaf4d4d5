"""What the strict JSON body parser costs over decoding alone, on bodies near the 1 MB cap.

Every request body goes through herald.api.json_input.parse_json_object: a bracket count
before decoding (depth at most 32), finite numbers, and a search for escapes of NUL or of
half a surrogate pair, which decides whether every string must be walked. The bodies here are
the expensive shapes for each step: many small values, many strings, many escapes, brackets
alone, and a refused body that makes the walk run. Figures are CPU time of this process
(time.process_time), the best of --repeat runs, beside json.loads of the same text.

Usage: python bench/json_body.py [--size 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable
from functools import partial

from _harness import source_digest

from herald.api.json_input import parse_json_object
from herald.errors import ValidationError


def bodies(size: int) -> dict[str, str]:
    """Each shape, repeated until it is about `size` characters long."""

    def array(item: str) -> str:
        return '{"a": [' + ",".join([item] * (size // (len(item) + 1))) + "]}"

    return {
        "ascii content": json.dumps({"content": "x" * size}),
        "non-ASCII content": json.dumps({"content": "\u00e9" * (size // 2)}, ensure_ascii=False),
        "escaped emoji": json.dumps({"content": "\U0001f600" * (size // 12)}),
        "escaped quotes": json.dumps({"content": '\\"' * (size // 4)}),
        "small integers": array("1"),
        "short strings": array('"a"'),
        "small objects": array('{"k":1}'),
        "brackets only (refused)": "[" * size,
        "integers + a NUL (refused)": array("1")[:-1] + ', "b": "\\u0000"}',
    }


def best_of(repeat: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        # The refused shapes raise: what counts is how long refusing took.
        with contextlib.suppress(ValidationError, RecursionError, ValueError):
            work()
        best = min(best, time.process_time() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="characters per body")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the best counts")
    args = parser.parse_args()
    print(f"herald sources {source_digest()}")
    print(f"{'body':28} {'bytes':>9} {'parse ms':>9} {'json.loads ms':>14}")
    for name, text in bodies(args.size).items():
        raw = text.encode()
        parsed = best_of(args.repeat, partial(parse_json_object, raw))
        decoded = best_of(args.repeat, partial(json.loads, text))
        print(f"{name:28} {len(raw):>9} {parsed:>9.1f} {decoded:>14.1f}")


if __name__ == "__main__":
    main()
