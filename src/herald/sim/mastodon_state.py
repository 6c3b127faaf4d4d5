"""The Mastodon simulator's in-memory state: accounts, statuses, media, keys, rate windows."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.sim.faults import FaultInjector
from herald.sim.mastodon_config import MastodonAccount, MastodonConfig, merge_mastodon_config

# Mastodon ids are snowflakes: decimal strings of 18 digits that grow with time. Starting here
# keeps every id 18 digits long, so they sort the same as strings and as numbers.
_FIRST_ID = 113_000_000_000_000_000
ASYNC_KINDS = frozenset({"video", "gifv", "audio"})  # processed in the background (202)
MEDIA_SCRIPT = frozenset({"ok", "fail"})
KEYS_KEPT = 1000


@dataclass(slots=True)
class SimMedia:
    id: str
    account_id: str
    kind: str  # "image" | "gifv" | "video" | "audio"
    content_type: str
    filename: str
    size: int
    sha256: str  # of the bytes received, so tests can tell they arrived intact
    description: str | None
    ready_at: float  # time.monotonic() when processing ends
    failed: bool  # processing ends in failure
    status_id: str | None = None  # set once attached; attached media cannot be reused

    def processing(self) -> bool:
        return time.monotonic() < self.ready_at


@dataclass(slots=True)
class SimStatus:
    id: str
    account: MastodonAccount
    text: str
    spoiler_text: str
    visibility: str
    in_reply_to: SimStatus | None
    media: list[SimMedia]
    idempotency_key: str | None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    replies: list[SimStatus] = field(default_factory=list)
    # Engagement others gave it, set through /_sim/engagement; quotes are Mastodon 4.5+ only.
    favourites: int = 0
    reblogs: int = 0
    quotes: int | None = None


@dataclass(slots=True)
class _Window:
    started: float  # epoch seconds, a multiple of the window length, as Rack::Attack counts
    count: int = 0


@dataclass
class Stats:
    creates: int = 0  # POST /api/v1/statuses, whatever became of them
    keyed: int = 0  # ... that carried an Idempotency-Key header
    replays: int = 0  # ... answered from an earlier status with the same key
    uploads: int = 0  # POST /api/v2/media
    polls: int = 0  # GET /api/v1/media/{id}
    still_processing: int = 0  # ... answered 206
    timelines: int = 0  # GET /api/v1/accounts/{id}/statuses
    status_reads: int = 0  # GET /api/v1/statuses/{id}
    account_reads: int = 0  # GET /api/v1/accounts/verify_credentials
    rate_limited: int = 0  # 429s, window or fault
    # The Idempotency-Key headers received, oldest first; bounded, as benchmarks send many.
    keys: deque[str] = field(default_factory=lambda: deque(maxlen=KEYS_KEPT))


class MastodonSim:
    """All simulator state. One event loop owns it: code between awaits runs alone, so a key's
    replay check and the status it guards happen with nothing in between."""

    def __init__(self, config: MastodonConfig) -> None:
        self.initial_config = config
        self._next_id = _FIRST_ID
        self.reset()

    def reset(self) -> None:
        self.config = self.initial_config
        self.injector = FaultInjector(self.config.common.seed)
        self.media_script: deque[str] = deque()
        self.by_token = {account.token: account for account in self.config.accounts}
        self.statuses: dict[str, SimStatus] = {}
        self.by_account: defaultdict[str, list[SimStatus]] = defaultdict(list)
        self.media: dict[str, SimMedia] = {}
        self._keys: dict[tuple[str, str], tuple[SimStatus, float]] = {}
        self._windows: dict[str, _Window] = {}
        self.stats = Stats()
        # (followers, following) by account id, set through /_sim/engagement.
        self.follows: dict[str, tuple[int, int]] = {}

    def configure(self, changes: object) -> None:
        config = merge_mastodon_config(self.config, changes)
        if isinstance(changes, dict) and "seed" in changes:
            self.injector.reseed(config.common.seed)
        self.config = config

    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def account(self, account_id: str) -> MastodonAccount | None:
        return next((a for a in self.by_token.values() if a.id == account_id), None)

    def add_account(self, account: MastodonAccount) -> None:
        self.by_token[account.token] = account

    def count_request(self, account: MastodonAccount) -> tuple[int, int, float] | None:
        """Counts one request against the account's window: (limit, remaining, reset epoch),
        remaining < 0 meaning over the limit; None when rate limiting is off."""
        limit, length = self.config.rate_limit, self.config.rate_window_s
        if limit is None:
            return None
        now = time.time()
        window = self._windows.get(account.id)
        if window is None or now >= window.started + length:
            window = self._windows[account.id] = _Window(now - now % length)
        window.count += 1
        return limit, limit - window.count, window.started + length

    def replay(self, account: MastodonAccount, key: str) -> SimStatus | None:
        """The status created with `key` by the account within the TTL, as Mastodon keeps the
        key in Redis for an hour after the status is created."""
        held = self._keys.get((account.id, key))
        if held is None:
            return None
        status, created = held
        if time.monotonic() - created >= self.config.common.idempotency_ttl_s:
            return None
        if status.id not in self.statuses:
            return None
        return status

    def create(self, draft: dict[str, Any]) -> SimStatus:
        status = SimStatus(id=self.new_id(), **draft)
        self.statuses[status.id] = status
        self.by_account[status.account.id].append(status)
        for item in status.media:
            item.status_id = status.id
        if status.in_reply_to is not None:
            status.in_reply_to.replies.append(status)
        if status.idempotency_key is not None:
            key = (status.account.id, status.idempotency_key)
            self._keys[key] = (status, time.monotonic())
        return status

    def add_media(self, media: SimMedia) -> None:
        self.media[media.id] = media

    def next_media_outcome(self) -> str:
        return self.media_script.popleft() if self.media_script else "ok"

    def stats_wire(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "creates": stats.creates,
            "keyed": stats.keyed,
            "replays": stats.replays,
            "statuses": len(self.statuses),
            "uploads": stats.uploads,
            "media": len(self.media),
            "polls": stats.polls,
            "still_processing": stats.still_processing,
            "timelines": stats.timelines,
            "status_reads": stats.status_reads,
            "account_reads": stats.account_reads,
            "rate_limited": stats.rate_limited,
            "idempotency_keys": list(stats.keys),
            "faults": dict(self.injector.counts),
        }
