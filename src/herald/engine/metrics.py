"""Prometheus text exposition for the engine: lateness histograms and counters, no dependency."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

LATENESS_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)


class Histogram:
    def __init__(
        self, name: str, help_text: str, buckets: Sequence[float] = LATENESS_BUCKETS
    ) -> None:
        self.name = name
        self.help_text = help_text
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.total = 0.0
        self.samples = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.samples += 1

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help_text}"
        yield f"# TYPE {self.name} histogram"
        cumulative = 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            cumulative += count
            yield f'{self.name}_bucket{{le="{bound}"}} {cumulative}'
        yield f'{self.name}_bucket{{le="+Inf"}} {self.samples}'
        yield f"{self.name}_sum {self.total}"
        yield f"{self.name}_count {self.samples}"


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help_text = help_text
        self.values: dict[str, int] = {}

    def inc(self, label: str) -> None:
        self.values[label] = self.values.get(label, 0) + 1

    def render(self, label_name: str) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help_text}"
        yield f"# TYPE {self.name} counter"
        for label, value in sorted(self.values.items()):
            yield f'{self.name}{{{label_name}="{label}"}} {value}'


class HostGauges(Protocol):
    @property
    def limit(self) -> int: ...
    @property
    def running(self) -> int: ...
    @property
    def waiting(self) -> int: ...
    @property
    def drops(self) -> int: ...
    @property
    def shrinks(self) -> int: ...


HOST_GAUGES = (
    ("limit", "gauge", "Calls the engine lets run at once against the host (adaptive)."),
    ("running", "gauge", "Calls running against the host."),
    ("waiting", "gauge", "Claimed targets waiting for the host, before the send gate."),
    ("drops", "counter", "Calls to the host that timed out or were answered 5xx or 429."),
    ("shrinks", "counter", "Times the host's limit was lowered, on latency or on drops."),
)


def render_hosts(hosts: Mapping[str, HostGauges]) -> Iterable[str]:
    for field, kind, help_text in HOST_GAUGES:
        name = f"herald_host_{field}" + ("_total" if kind == "counter" else "")
        yield f"# HELP {name} {help_text}"
        yield f"# TYPE {name} {kind}"
        for host, state in sorted(hosts.items()):
            label = host.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            yield f'{name}{{host="{label}"}} {getattr(state, field)}'


class EngineMetrics:
    def __init__(self) -> None:
        self.claim_lateness = Histogram(
            "herald_claim_lateness_seconds", "Claim time minus due time."
        )
        self.start_lateness = Histogram(
            "herald_start_lateness_seconds",
            "Send-gate time (just before the platform call) minus due time.",
        )
        self.publish_lateness = Histogram(
            "herald_publish_lateness_seconds", "Published time minus due time."
        )
        self.outcomes = Counter("herald_publish_outcomes_total", "Platform call outcomes.")
        self.fenced = Counter(
            "herald_fenced_writes_total",
            "Writes refused because the claim was lost (rescued, edited or claimed again): "
            "a stale worker's, by where (gate, lookup, result, release, upload).",
        )
        # Set by the engine: its per-host call limits (engine/call_limiter.py).
        self.hosts: Callable[[], Mapping[str, HostGauges]] = dict
        self.token_renewals = Counter(
            "herald_token_renewals_total",
            "OAuth token renewals asked of a platform, by result (renewed; refused for good, "
            "the connection needs its owner; failed, tried again later).",
        )

    def render(self) -> Iterable[str]:
        for histogram in (self.claim_lateness, self.start_lateness, self.publish_lateness):
            yield from histogram.render()
        yield from self.outcomes.render("outcome")
        yield from self.fenced.render("at")
        yield from render_hosts(self.hosts())
        yield from self.token_renewals.render("result")
