"""The concurrency limit of one platform host: TCP Vegas on call latency, AIMD on failures.

Pure arithmetic over (latency, calls in flight, time) samples; `engine/call_limiter.py` applies it
(and takes the time its own event loop ran late off each latency first, `engine/loop_lag.py`).
The idea is Vegas's: with the host's no-load latency `base` and a round trip's latency `rtt`,
about `limit * (1 - TOLERANCE * base / rtt)` of our calls wait in the host's queue rather than
being served. The limit changes once per round trip, from all the answers of that round trip,
and `rtt` is their tenth percentile (LOW_QUANTILE): a host's jitter spreads answers around a mean
well above its fastest answer without any queue, while a queue delays every answer, the faster
ones included. While the queue stays under a call or so the limit doubles each round trip (as
TCP's slow start); from FAST_FROM calls on, until the host first shows a queue or fails a call, a
round trip whose faster answers came within CLEAR of the base quadruples it (a burst to a fast
idle host opens in a few round trips); under it, a doubling is undone when the round trip after
it shows the host slower by more than GRADIENT. It grows by a step under a few queued calls, and
past several it is cut multiplicatively, to what the host served without a queue plus a few
calls.
A call that times out, fails with a 5xx or is answered 429 cuts it by `backoff` (once a round
trip); when half the limit's calls fail with no answer between, the host has stopped serving
and the limit halves.

The no-load latency is the fastest answer seen. A new host's first call goes alone to measure it.
It is measured again every PROBE_ROUNDS round trips: for two round trips the limit is divided by
PROBE_DIVISOR (as BBR probes its minimum round trip), so that a host we keep busy answers some
calls without our own queue in front of them; the fastest of those is the new base if lower
than the old, and a higher one only after BASE_ROUNDS round trips without an answer near the
old. Without the dip, a host held at its limit never answers at its base again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Vegas's thresholds, in queued calls, scale with log10(limit) (as in Netflix's concurrency-limits):
# a big limit tolerates a proportionally tiny queue, a small one at least one call.
IDLE = 1.0  # at or under IDLE * log10(limit) queued: the host is idle, double the limit
# Until the host first shows a queue or fails a call, a round trip whose faster answers came
# within CLEAR times its base quadruples the limit instead (a slow start that exits on the first
# sign of load, as TCP's HyStart does): a burst to a fast, unloaded host opens in a few round
# trips, while a host that queues shows it in the first round trip and never sees the faster
# growth.
CLEAR = 1.2
FAST_GROWTH = 4
# ... once the host has served this many calls at once at its base latency. Below, the limit
# only doubles: a process's first call may have measured a host already loaded by other
# workers, and mastodon-mock, so misjudged, stalled for 30 s when one of three workers went
# from 4 to 16 calls in one round trip (24 at once).
FAST_FROM = 32
# Under FAST_FROM each doubling is judged: held for a round trip (its calls' answers come in the
# next), then undone if the round trip's faster answers came more than GRADIENT times later than
# before it. A process whose first call met a host other workers already loaded takes that
# latency for the host's base and sees no queue; the host's answer to more calls still shows.
GRADIENT = 1.25
ALPHA = 3.0  # under ALPHA * log10(limit) queued: the host has room, grow by one step
BETA = 6.0  # over BETA * log10(limit) queued: the host is queueing our calls, shrink
# Latency within TOLERANCE times the base counts as no queue: a host's own jitter, and the CPU a
# burst costs both ends, make a busy but healthy host answer some tens of percent slower, and a
# queue measured in calls alone would cut the limit to a crawl on that noise.
TOLERANCE = 1.5
SMOOTHING = 0.2  # weight of a round trip's latency in the moving average that times rounds
# A round trip's queue is read from its faster answers, not its mean: a host's own jitter spreads
# answers around its mean (the simulators' 50 ms ± 25 ms has a mean twice its fastest answer), but
# the tenth percentile of a round stays near the fastest answer ever seen unless every call of
# the round waited, which is what a queue does (a host serving one call at a time answers the
# k-th of n queued calls after k service times: its tenth percentile grows with n).
LOW_QUANTILE = 0.1
MAX_ROUND_SAMPLES = 1_024  # a round's latencies kept for its quantile; the rest only in its mean
STREAK = 3  # this many failures in a row, and half the limit, halve it (once until an answer)
PROBE_ROUNDS = 50  # re-measure the no-load latency this often: the host or its path may change
BASE_ROUNDS = 500  # a re-measurement may raise the base after this many rounds without it
# While re-measuring, the limit is divided by this much: a host that serves calls one after
# another still queues half our calls, and measured at half the limit its base would creep up
# with every re-measurement (6 times the service time on such a host, in a test).
PROBE_DIVISOR = 8


@dataclass
class _Round:
    """The answers of one round trip."""

    ends: float
    total: float = 0.0
    count: int = 0
    busiest: int = 0  # the most calls in flight at an answer
    latencies: list[float] = field(default_factory=list)

    def add(self, rtt: float, in_flight: int) -> None:
        self.total += rtt
        self.count += 1
        self.busiest = max(self.busiest, in_flight)
        if len(self.latencies) < MAX_ROUND_SAMPLES:
            self.latencies.append(rtt)

    def low(self) -> float:
        """The round's LOW_QUANTILE latency: what its faster answers took."""
        ordered = sorted(self.latencies)
        return ordered[int(LOW_QUANTILE * (len(ordered) - 1))]


@dataclass
class _Trial:
    """A small limit just doubled: the limit and latency before, judged a round trip later."""

    limit: float
    rtt: float
    waited: bool = False


@dataclass
class HostLimit:
    """How many calls Herald lets run at once against one host. `value` is what to enforce."""

    initial: int = 4
    minimum: int = 1
    maximum: int = 500
    backoff: float = 0.9  # the multiplicative decrease on failures
    limit: float = field(init=False)
    base: float | None = field(default=None, init=False)  # the no-load latency, seconds
    smoothed: float | None = field(default=None, init=False)  # round-trip latency, seconds
    samples: int = field(default=0, init=False)
    rounds: int = field(default=0, init=False)
    drops: int = field(default=0, init=False)
    shrinks: int = field(default=0, init=False)
    _round: _Round | None = field(default=None, init=False)
    _calm_until: float = field(default=-math.inf, init=False)
    _trial: _Trial | None = field(default=None, init=False)  # a doubling being judged
    _failing: int = field(default=0, init=False)  # failures since the last answer
    _halved: bool = field(default=False, init=False)  # halved for them already
    _probe_until: float | None = field(default=None, init=False)  # while the limit dips
    _probe_min: float = field(default=math.inf, init=False)
    _base_seen: int = field(default=0, init=False)  # the round of the last answer near the base

    def __post_init__(self) -> None:
        if not 1 <= self.minimum <= self.maximum:
            raise ValueError("need 1 <= minimum <= maximum")
        if not 0 < self.backoff < 1:
            raise ValueError("backoff must be in (0, 1)")
        self.limit = float(min(max(self.initial, self.minimum), self.maximum))

    @property
    def value(self) -> int:
        if self.base is None:
            return self.minimum  # the first call goes alone: its latency is the base
        limit = self.limit / PROBE_DIVISOR if self._probe_until is not None else self.limit
        return max(self.minimum, min(self.maximum, int(limit)))

    def answered(self, rtt: float, in_flight: int, now: float) -> None:
        """A call got an answer after `rtt` seconds, `in_flight` calls running (itself included)."""
        rtt = max(rtt, 1e-6)
        self.samples += 1
        self._failing, self._halved = 0, False
        if self.base is None:
            self.base = rtt  # the lone first call's: the limit opens with the next call
            return
        if rtt <= CLEAR * self.base:
            self._base_seen = self.rounds
        self.base = min(self.base, rtt)
        if self._probing(rtt, in_flight, now):
            return
        current = self._round or _Round(ends=now + (self.smoothed or rtt))
        current.add(rtt, in_flight)
        self._round = current
        if now >= current.ends:
            self._round = None
            self.rounds += 1
            self._adjust(current, now)

    def failed(self, now: float) -> None:
        """A call timed out, or the host answered 5xx or 429: it is overloaded."""
        self.drops += 1
        self._failing += 1
        if self._failing >= max(STREAK, self.limit / 2) and not self._halved:
            # Half the limit failed with no answer between: the host has stopped serving (as
            # mastodon-mock deadlocks under load), not dropped a call here and there.
            self._halved = True
            self._calm_until = -math.inf
            self._shrink(now, self.limit / 2)
            return
        self._shrink(now, self.limit * self.backoff)

    def _adjust(self, ended: _Round, now: float) -> None:
        mean = ended.total / ended.count
        self.smoothed = (
            mean if self.smoothed is None else self.smoothed + SMOOTHING * (mean - self.smoothed)
        )
        if ended.busiest * 2 < self.limit:
            return  # too few calls to tell anything about the host's capacity: hold the limit
        rtt = ended.low()
        if self._trial is not None and self._tried(self._trial, rtt, now):
            return
        base = self.base if self.base is not None else rtt
        steps = math.log10(max(self.limit, 10.0))
        queued = self.limit * (1.0 - TOLERANCE * base / rtt)
        if queued <= IDLE * steps:
            starting = (
                self.limit >= FAST_FROM
                and not self.shrinks
                and not self.drops
                and rtt <= CLEAR * base
            )
            if self.limit < FAST_FROM:
                self._trial = _Trial(self.limit, rtt)
            self._set(self.limit * (FAST_GROWTH if starting else 2))
        elif queued < ALPHA * steps:
            self._set(self.limit + steps)
        elif queued > BETA * steps:
            # What the host served without a queue, plus a few calls: a multiplicative cut by
            # base / rtt, never below half in one round trip.
            served = self.limit * TOLERANCE * base / rtt
            self._shrink(now, max(self.limit / 2, served + ALPHA * steps))

    def _tried(self, trial: _Trial, rtt: float, now: float) -> bool:
        """Judge a doubling of a small limit; True while its answers are not in yet."""
        if not trial.waited:
            # This round trip's answers are mostly of calls sent under the old limit.
            trial.waited = True
            return True
        self._trial = None
        if rtt > GRADIENT * trial.rtt:
            # Twice the calls made the host slower: it was busy already (its base was measured
            # while other workers loaded it), and Vegas, misled by that base, would go on.
            self._shrink(now, trial.limit)
            return True
        return False

    def _shrink(self, now: float, limit: float) -> None:
        if now < self._calm_until or limit >= self.limit:
            return  # already shrunk within the last round trip
        self._trial = None
        self._set(limit)
        self.shrinks += 1
        # The answers of the next round trip are of calls sent under the older, higher limit.
        self._calm_until = now + (self.smoothed or self.base or 0.0)
        self._round = None

    def _probing(self, rtt: float, in_flight: int, now: float) -> bool:
        """Start, feed or end a re-measurement of the no-load latency; True while it runs."""
        if self._probe_until is None:
            if self._round is not None or not self.rounds or self.rounds % PROBE_ROUNDS:
                return False
            self.rounds += 1  # this round is the probe's
            self._probe_until, self._probe_min = now + 2 * (self.smoothed or rtt), math.inf
            return True
        if in_flight <= self.value:  # sent after the calls of the old limit drained
            self._probe_min = min(self._probe_min, rtt)
        if now < self._probe_until:
            return True
        if self._probe_min < math.inf and (
            self.base is None
            or self._probe_min < self.base
            or self.rounds - self._base_seen >= BASE_ROUNDS
        ):
            # Lower at once; higher only once no answer came near the old base for BASE_ROUNDS:
            # a host other workers keep loading is slow even when we call it alone, and a base
            # raised on that lets each worker add as much load again (three workers ratcheted
            # a host serving one call at a time to 80 calls at once, in a test).
            self.base, self._base_seen = self._probe_min, self.rounds
        self._probe_until, self._round = None, None
        return False

    def _set(self, limit: float) -> None:
        self.limit = min(max(limit, float(self.minimum)), float(self.maximum))
