"""Sandbox simulator config and fault injection: scripted or random faults, latency, hangs."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# In the order a random draw walks them, so a seeded run is reproducible.
FAULTS = (
    "rate_limit",
    "unavailable",
    "error_after_create",
    "lost_response",
    "timeout",
    "rejected",
)
# Faults that answer before anything is stored; the others store the post first.
REFUSALS = frozenset({"rate_limit", "unavailable", "timeout", "rejected"})
NO_FAULT = "ok"

_SECONDS = ("latency_ms", "latency_jitter_ms", "hang_s", "idempotency_ttl_s")
# Knobs only the sandbox honours; the other simulators neither take nor show them.
SANDBOX_ONLY = ("rate_limit_headers", "success_body")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")


def _no_faults() -> dict[str, float]:
    return dict.fromkeys(FAULTS, 0.0)


@dataclass(frozen=True)
class SandboxConfig:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0  # each request waits latency_ms ± uniform(jitter)
    retry_after_s: int = 2  # whole seconds: Retry-After takes delta-seconds only
    hang_s: float = 30.0  # how long "timeout" and "lost_response" hold a request
    idempotency_ttl_s: float = 3600.0
    token: str | None = None  # when set, /v1 requests need `Authorization: Bearer <token>`
    seed: int | None = None  # seeds fault draws and jitter
    faults: Mapping[str, float] = field(default_factory=_no_faults)
    # Answers no platform should send but some do, for trying a client on them: the headers
    # of a rate_limit answer instead of those derived from retry_after_s (an HTTP-date, a
    # negative or enormous delay), and the raw body of each fresh create's 200 (the post is
    # created all the same; a replay answers with the post as usual).
    rate_limit_headers: Mapping[str, str] | None = None
    success_body: str | None = None
    capacity: int | None = None  # creates served at once; None: no limit


class ConfigError(ValueError):
    """A config or script change the simulator cannot apply; the message says why."""


def config_wire(config: SandboxConfig) -> dict[str, Any]:
    wire = asdict(config)
    wire["faults"] = dict(config.faults)
    return wire


def merge_config(config: SandboxConfig, changes: object) -> SandboxConfig:
    """`config` with the fields of a JSON object replaced; `faults` merges name by name."""
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    updates = {name: _field(config, name, value) for name, value in changes.items()}
    return replace(config, **updates)


def _field(config: SandboxConfig, name: str, value: object) -> Any:
    if name in _SECONDS:
        return _non_negative(name, value)
    if name == "retry_after_s":
        return _whole(name, value)
    if name == "token":
        if value is None or (isinstance(value, str) and value):
            return value
        raise ConfigError("token must be a non-empty string or null")
    if name == "seed":
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ConfigError("seed must be an integer or null")
    if name == "faults":
        return _faults(config.faults, value)
    return _sandbox_only(name, value)


def _sandbox_only(name: str, value: object) -> Any:
    if name == "rate_limit_headers":
        return _headers(name, value)
    if name == "success_body":
        if value is None or isinstance(value, str):
            return value
        raise ConfigError("success_body must be a string or null")
    if name == "capacity":
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            return value
        raise ConfigError("capacity must be a positive integer or null")
    raise ConfigError(f"unknown config field {name!r}")


def _number(value: object) -> float | None:
    # bool is an int subclass, but `true` is never a meaningful number of seconds.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value) if math.isfinite(value) else None
    except OverflowError:  # an integer beyond any float
        return None


def _non_negative(name: str, value: object) -> float:
    number = _number(value)
    if number is None or number < 0:
        raise ConfigError(f"{name} must be a non-negative number")
    return number


def _whole(name: str, value: object) -> int:
    number = _number(value)
    if number is None or number < 0 or not number.is_integer():
        raise ConfigError(f"{name} must be a non-negative whole number")
    return int(number)


def _headers(name: str, value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(key, str)
        and _HEADER_NAME.fullmatch(key)
        and isinstance(text, str)
        and _HEADER_VALUE.fullmatch(text)
        for key, text in value.items()
    ):
        raise ConfigError(f"{name} must be an object of header names to printable ASCII values")
    return dict(value)


def _faults(current: Mapping[str, float], value: object) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError("faults must be an object of probabilities")
    merged = dict(current)
    for name, probability in value.items():
        if name not in FAULTS:
            raise ConfigError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        number = _number(probability)
        if number is None or not 0 <= number <= 1:
            raise ConfigError(f"probability of {name} must be between 0 and 1")
        merged[name] = number
    # One draw picks at most one fault, so the probabilities share the unit interval.
    if sum(merged.values()) > 1 + 1e-9:
        raise ConfigError("fault probabilities must sum to at most 1")
    return merged


def script_entries(body: object) -> list[str]:
    """The fault names of a `{"faults": [...]}` script body, validated."""
    entries = body.get("faults") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
        raise ConfigError('script must be {"faults": [names]}')
    unknown = sorted({entry for entry in entries if entry not in FAULTS and entry != NO_FAULT})
    if unknown:
        raise ConfigError(f"unknown faults {unknown}; known: {', '.join((*FAULTS, NO_FAULT))}")
    return entries


class FaultInjector:
    """Decides each create request's fault: the script first, then a random draw."""

    def __init__(self, seed: int | None) -> None:
        # Not security-sensitive: simulated faults only need to be reproducible from a seed.
        self.random = random.Random(seed)  # noqa: S311
        self.script: deque[str] = deque()
        self.counts = dict.fromkeys(FAULTS, 0)  # faults applied, by name

    def reseed(self, seed: int | None) -> None:
        self.random.seed(seed)

    def extend(self, entries: Iterable[str]) -> None:
        self.script.extend(entries)

    def next_fault(self, probabilities: Mapping[str, float]) -> str | None:
        fault = self._pick(probabilities)
        if fault is not None:
            self.counts[fault] += 1
        return fault

    def _pick(self, probabilities: Mapping[str, float]) -> str | None:
        if self.script:
            entry = self.script.popleft()
            return None if entry == NO_FAULT else entry
        if not any(probabilities.values()):
            return None  # no draw, so a seeded sequence only advances when faults are on
        draw = self.random.random()
        for name in FAULTS:
            draw -= probabilities.get(name, 0.0)
            if draw < 0:
                return name
        return None

    def latency_s(self, config: SandboxConfig) -> float:
        jitter = config.latency_jitter_ms
        offset = self.random.uniform(-jitter, jitter) if jitter else 0.0
        return max(0.0, config.latency_ms + offset) / 1000


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def token_refusal(request: Request, config: SandboxConfig) -> Response | None:
    """A 401 when a token is configured and the request does not bear it, else None."""
    if config.token is None:
        return None
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secrets.compare_digest(given.encode(), config.token.encode()):
        return None
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return error_response(401, "invalid_token", "The access token is invalid", challenge)


async def refusal(
    request: Request, config: SandboxConfig, fault: str, holds: Holds | None = None
) -> Response:
    """The answer of a fault that creates nothing (one of REFUSALS)."""
    if fault == "rate_limit":
        headers = {
            "Retry-After": str(config.retry_after_s),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + config.retry_after_s),
        }
        if config.rate_limit_headers is not None:
            headers = dict(config.rate_limit_headers)
        return error_response(429, "rate_limited", "Too many requests", headers=headers)
    if fault == "rejected":
        return error_response(422, "validation_failed", "rejected by fault injection")
    if fault == "timeout":
        await (holds.hold(request, config.hang_s) if holds else hold(request, config.hang_s))
    return error_response(503, "unavailable", "The service is unavailable; nothing was created")


async def hold(request: Request, seconds: float, release: asyncio.Event | None = None) -> None:
    """Wait `seconds`, or less if the client hangs up first: a client that timed out is gone,
    and holding on would only keep the simulator (and its shutdown) busy. `release`, once set,
    ends the hold at once (the control API's release)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            if release is None:
                await _until_gone(request, seconds)
                return
            gone = asyncio.ensure_future(_until_gone(request, seconds))
            released = asyncio.ensure_future(release.wait())
            try:
                await asyncio.wait((gone, released), return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
                released.cancel()


async def _until_gone(request: Request, seconds: float) -> None:
    # The body was read already, so receive() blocks until the client disconnects.
    if (await request.receive())["type"] != "http.disconnect":
        await asyncio.sleep(seconds)


class Holds:
    """The requests a fault holds, and the switch that answers all of them now: a test that cut
    a client off the network answers its held calls only once the network is back."""

    def __init__(self) -> None:
        self._release = asyncio.Event()
        self.held = 0

    async def hold(self, request: Request, seconds: float) -> None:
        self.held += 1
        try:
            await hold(request, seconds, self._release)
        finally:
            self.held -= 1

    def release(self) -> int:
        """End every hold under way; later holds wait their `hang_s` again. How many ended."""
        released, event = self.held, self._release
        self._release = asyncio.Event()
        event.set()
        return released


class Capacity:
    """A host that serves `capacity` creates at once: later ones queue in arrival order, before
    their latency, so its answers slow down as its load grows (as a real instance's do).
    `peak` is the most creates it ever had at once, served or queued."""

    def __init__(self) -> None:
        self._gate: tuple[int, asyncio.Semaphore] | None = None
        self.inside = self.peak = 0

    @contextlib.asynccontextmanager
    async def serving(self, capacity: int | None) -> AsyncIterator[None]:
        self.inside += 1
        self.peak = max(self.peak, self.inside)
        try:
            if capacity is None:
                yield
            else:
                if self._gate is None or self._gate[0] != capacity:
                    self._gate = (capacity, asyncio.Semaphore(capacity))
                async with self._gate[1]:
                    yield
        finally:
            self.inside -= 1
