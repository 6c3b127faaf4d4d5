"""All of the LinkedIn simulator's state, owned by one event loop: grants, posts, uploads,
comments, reactions and the daily counters."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.sim.faults import FaultInjector
from herald.sim.linkedin.config import (
    LinkedInApp,
    LinkedInConfig,
    Member,
    Organization,
    merge,
)


@dataclass
class Grant:
    app: LinkedInApp
    member: Member
    scope: tuple[str, ...]
    expires_at: float


@dataclass
class Pending:
    """An approved consent waiting for its code to be exchanged."""

    app: LinkedInApp
    member: Member
    redirect_uri: str
    scope: tuple[str, ...]
    expires_at: float


@dataclass
class Asset:
    """An uploaded image, video or document."""

    urn: str
    kind: str  # image | video | document
    owner: str
    size: int | None = None
    parts: dict[int, bytes] = field(default_factory=dict)  # first byte -> bytes
    etags: dict[int, str] = field(default_factory=dict)
    status: str = "WAITING_UPLOAD"
    available_at: float = 0.0
    upload_token: str = ""

    def current_status(self) -> str:
        if self.status == "PROCESSING" and time.monotonic() >= self.available_at:
            self.status = "AVAILABLE"
        return self.status


@dataclass
class Post:
    urn: str
    author: str
    body: dict[str, Any]
    created_ms: int
    client_id: str
    comments: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, str] = field(default_factory=dict)  # actor urn -> type
    reacted_ms: dict[str, int] = field(default_factory=dict)  # actor urn -> when


class LinkedInSim:
    def __init__(self, config: LinkedInConfig) -> None:
        self.initial = config
        self.config = config
        self.injector = FaultInjector(config.common.seed)
        self.ids = itertools.count(7_300_000_000_000_000_001)
        self.reset()

    def reset(self) -> None:
        self.config = self.initial
        self.injector = FaultInjector(self.config.common.seed)
        self.members: dict[str, Member] = {m.sub: m for m in self.config.members}
        self.organizations: dict[int, Organization] = {o.id: o for o in self.config.organizations}
        self.apps: dict[str, LinkedInApp] = {a.client_id: a for a in self.config.apps}
        self.grants: dict[str, Grant] = {}
        self.pending: dict[str, Pending] = {}  # consent handle -> consent
        self.codes: dict[str, Pending] = {}
        self.posts: dict[str, Post] = {}
        # The last post per (author, commentary): duplicate checks in constant time.
        self.latest: dict[tuple[str, str], Post] = {}
        self.assets: dict[str, Asset] = {}
        self.daily: dict[tuple[str, str], int] = {}  # (member sub, UTC day) -> posts
        self.requests: list[dict[str, Any]] = []
        self.stats: dict[str, int] = dict.fromkeys(
            (
                "consents",
                "codes_exchanged",
                "creates",
                "posts",
                "duplicates",
                "quota_refusals",
                "version_refusals",
                "uploads",
                "comments",
                "reactions",
            ),
            0,
        )

    def configure(self, changes: object) -> None:
        self.config = merge(self.config, changes)

    def stats_wire(self) -> dict[str, Any]:
        return {**self.stats, "faults": dict(self.injector.counts)}

    def next_id(self) -> int:
        return next(self.ids)

    def issue(
        self, app: LinkedInApp, member: Member, scope: tuple[str, ...], ttl: float | None = None
    ) -> tuple[str, Grant]:
        token = "AQ" + secrets.token_urlsafe(40)
        lifetime = self.config.access_token_ttl_s if ttl is None else ttl
        grant = Grant(app, member, scope, time.time() + lifetime)
        self.grants[token] = grant
        return token, grant

    def grant_for(self, token: str) -> Grant | None:
        grant = self.grants.get(token)
        if grant is None or grant.expires_at <= time.time():
            return None
        return grant

    def count_post(self, member: Member) -> bool:
        """One more post today for `member`; False when the daily quota is spent."""
        limit = self.config.daily_posts_per_member
        key = (member.sub, datetime.now(UTC).date().isoformat())
        if limit is not None and self.daily.get(key, 0) >= limit:
            return False
        self.daily[key] = self.daily.get(key, 0) + 1
        return True

    def duplicate_of(self, author: str, body: dict[str, Any]) -> Post | None:
        """A recent post of the same author with the same commentary and content."""
        horizon = (time.time() - self.config.duplicate_window_s) * 1000
        post = self.latest.get((author, str(body.get("commentary"))))
        if post is None or post.urn not in self.posts or post.created_ms < horizon:
            return None
        return post if _same(post.body, body) else None

    def store(self, post: Post) -> None:
        self.posts[post.urn] = post
        self.latest[(post.author, str(post.body.get("commentary")))] = post

    def can_post_as(self, member: Member, author: str) -> bool:
        if author == member.urn:
            return True
        prefix = "urn:li:organization:"
        if not author.startswith(prefix) or not author[len(prefix) :].isdigit():
            return False
        org = self.organizations.get(int(author[len(prefix) :]))
        return org is not None and member.sub in org.administrators


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("commentary") == b.get("commentary") and a.get("content") == b.get("content")
