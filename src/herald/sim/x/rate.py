"""X's rate windows: a count per caller and endpoint over a window that starts with the first
request and resets at a fixed epoch second, as the `x-rate-limit-reset` header tells."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    limit: int
    remaining: int  # negative: this request is over the limit
    reset: int  # epoch seconds

    def headers(self, prefix: str = "x-rate-limit") -> dict[str, str]:
        return {
            f"{prefix}-limit": str(self.limit),
            f"{prefix}-remaining": str(max(0, self.remaining)),
            f"{prefix}-reset": str(self.reset),
        }


class RateWindows:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, ...], tuple[int, int]] = {}  # key -> (reset, count)

    def count(self, key: tuple[str, ...], limit: int, length_s: float) -> Window:
        """Counts one request under `key`; the window afterwards."""
        now = time.time()
        reset, count = self._windows.get(key, (0, 0))
        if now >= reset:
            reset, count = math.ceil(now + length_s), 0
        count += 1
        self._windows[key] = (reset, count)
        return Window(limit, limit - count, reset)

    def exhaust(self, key: tuple[str, ...], limit: int, seconds: float) -> Window:
        """Fills `key`'s window until `seconds` from now: a scripted rate-limit fault."""
        reset = math.ceil(time.time() + seconds)
        self._windows[key] = (reset, limit)
        return Window(limit, 0, reset)
