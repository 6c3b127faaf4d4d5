"""The Meta simulator's in-memory state: tokens, codes, containers, published media, stats."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from herald.sim.faults import FaultInjector
from herald.sim.meta.config import MetaConfig, MetaPage, MetaUser, merge_meta_config

# user: a Facebook user token (short- or long-lived); page: a Page token; threads: a Threads
# user token (short- or long-lived).
TokenKind = Literal["user", "page", "threads"]
Status = Literal["IN_PROGRESS", "FINISHED", "ERROR", "PUBLISHED"]
# Meta's ids are long decimal numbers; one counter keeps every node id unique, so one port
# can serve the Graph and Threads hosts' paths without any id meaning two things.
_FIRST_ID = 17_900_000_000_000_000


@dataclass(slots=True)
class Token:
    value: str
    kind: TokenKind
    user: MetaUser
    expires_at: float | None  # time.time(); None: never (a Page token from a long-lived one)
    long_lived: bool
    page: MetaPage | None = None
    issued_at: float = field(default_factory=time.time)


@dataclass(slots=True)
class Container:
    id: str
    host: Literal["instagram", "threads"]
    owner_id: str
    media_type: str  # IMAGE, VIDEO, REELS, STORIES, CAROUSEL, TEXT
    params: dict[str, str]
    children: list[str]
    is_carousel_item: bool
    status: Status = "IN_PROGRESS"
    error_message: str = ""
    ready_at: float = 0.0  # time.monotonic() when a fetched container turns FINISHED
    fetched: dict[str, str] = field(default_factory=dict)  # URL -> sha256 of what came
    published_id: str | None = None
    created_at: float = field(default_factory=time.time)


@dataclass(slots=True)
class Published:
    id: str
    host: Literal["facebook", "instagram", "threads"]
    owner_id: str
    media_type: str
    text: str
    permalink: str
    shortcode: str
    container_id: str | None = None
    reply_to_id: str | None = None
    children: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Stats:
    containers: int = 0
    fetches: int = 0
    fetch_failures: int = 0
    publishes: int = 0  # media_publish / threads_publish / feed / photos / videos calls
    published: int = 0
    status_polls: int = 0
    quota_reads: int = 0
    token_exchanges: int = 0
    refreshes: int = 0
    faults: dict[str, int] = field(default_factory=dict)


class MetaSim:
    def __init__(self, config: MetaConfig) -> None:
        self.initial = config
        self.config = config
        self.injector = FaultInjector(config.common.seed)
        self._ids = itertools.count(_FIRST_ID)
        self.reset()

    def reset(self) -> None:
        self.config = self.initial
        self.injector.reseed(self.config.common.seed)
        self.injector.script.clear()
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, tuple[MetaUser, str, str]] = {}  # code -> user, redirect, host
        self.containers: dict[str, Container] = {}
        self.published: dict[str, Published] = {}
        self.unpublished_photos: dict[str, Published] = {}
        self.stats = Stats()
        self.tasks: set[asyncio.Task[None]] = set()

    def configure(self, changes: object) -> None:
        self.config = merge_meta_config(self.config, changes)
        self.injector.reseed(self.config.common.seed)

    def stats_wire(self) -> dict[str, Any]:
        return dict(vars(self.stats))

    def new_id(self) -> str:
        return str(next(self._ids))

    def user(self, user_id: str) -> MetaUser | None:
        return next((u for u in self.config.users if u.id == user_id), None)

    def page(self, page_id: str) -> tuple[MetaUser, MetaPage] | None:
        for user in self.config.users:
            for page in user.pages:
                if page.id == page_id:
                    return user, page
        return None

    def instagram(self, ig_id: str) -> tuple[MetaUser, MetaPage] | None:
        for user in self.config.users:
            for page in user.pages:
                if page.instagram_id == ig_id:
                    return user, page
        return None

    def threads_user(self, threads_id: str) -> MetaUser | None:
        return next((u for u in self.config.users if u.threads_id == threads_id), None)

    def mint(
        self, kind: TokenKind, user: MetaUser, *, long_lived: bool, page: MetaPage | None = None
    ) -> Token:
        if kind == "page":
            # A Page token from a long-lived user token does not expire [docs].
            ttl: float | None = None if long_lived else self.config.short_token_ttl_s
        else:
            ttl = self.config.long_token_ttl_s if long_lived else self.config.short_token_ttl_s
        prefix = {"user": "EAA", "page": "EAAP", "threads": "THAA"}[kind]
        value = prefix + secrets.token_urlsafe(24)
        token = Token(
            value, kind, user, None if ttl is None else time.time() + ttl, long_lived, page
        )
        self.tokens[value] = token
        return token

    def live_token(self, value: str) -> Token | None:
        token = self.tokens.get(value)
        if token is None or (token.expires_at is not None and token.expires_at <= time.time()):
            return None
        return token

    def published_in_day(self, owner_id: str) -> int:
        since = time.time() - 86400
        return sum(
            1
            for p in self.published.values()
            if p.owner_id == owner_id and p.reply_to_id is None and p.timestamp.timestamp() > since
        )
