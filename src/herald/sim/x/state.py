"""The X simulator's in-memory state: apps, users, grants and tokens, tweets, media, windows."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.sim.faults import FaultInjector
from herald.sim.x.config import XApp, XConfig, XUser, merge_x_config
from herald.sim.x.rate import RateWindows
from herald.sim.x.tokens import Grant, TokenStore
from herald.sim.x.uploads import SimMedia, refusal

# X ids are snowflakes: 19 decimal digits that grow with time. Starting here keeps them all
# 19 digits long, so they sort the same as strings and as numbers.
_FIRST_ID = 1_870_000_000_000_000_000
# Faults scripted on the token endpoint: the refusals grant nothing; lost_response grants
# (spending a refresh token) and then holds the answer.
TOKEN_REFUSALS = frozenset({"unavailable", "timeout", "rate_limit"})
TOKEN_FAULTS = TOKEN_REFUSALS | {"ok", "lost_response"}
PENDING_KEPT = 1000
REQUESTS_KEPT = 1000


@dataclass(slots=True)
class SimTweet:
    id: str
    author: XUser
    client_id: str
    text: str  # as the client sent it; answers show URLs wrapped as t.co links
    in_reply_to: SimTweet | None
    quoted: SimTweet | None
    media_ids: list[str]
    media_keys: list[str]  # what timelines show under attachments
    reply_settings: str | None
    visible_at: float  # time.monotonic() when timelines start to show it
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    deleted: bool = False


@dataclass(slots=True)
class Authorization:
    """A consent page shown and not yet answered: what the app asked for."""

    app: XApp
    redirect_uri: str
    scope: tuple[str, ...]
    state: str
    challenge: str
    method: str


@dataclass
class Stats:
    creates: int = 0  # POST /2/tweets, whatever became of them
    duplicates: int = 0  # ... refused as duplicate content
    deletes: int = 0  # DELETE /2/tweets/:id that deleted one
    timelines: int = 0  # GET /2/users/:id/tweets
    me: int = 0  # GET /2/users/me
    uploads: int = 0  # media upload requests of any command
    status_polls: int = 0  # GET /2/media/upload?command=STATUS
    rate_limited: int = 0  # 429s, window or fault
    consents: int = 0  # consent pages answered: approved
    denials: int = 0  # ... denied
    token_faults: int = 0  # token requests answered by a scripted fault
    upload_faults: int = 0  # media upload calls answered by a scripted fault


class XSim:
    """All simulator state. One event loop owns it: code between awaits runs alone."""

    def __init__(self, config: XConfig) -> None:
        self.initial_config = config
        self._next_id = _FIRST_ID
        self.reset()

    def reset(self) -> None:
        self.config = self.initial_config
        self.injector = FaultInjector(self.config.common.seed)
        self.token_script: deque[str] = deque()
        self.apps = {app.client_id: app for app in self.config.apps}
        self.users = {user.id: user for user in self.config.users}
        self.tokens = TokenStore()
        self.pending: dict[str, Authorization] = {}
        self.tweets: dict[str, SimTweet] = {}
        # Per author, oldest first (ids grow), and per (author, text): the timeline and the
        # duplicate check stay cheap when a benchmark has created thousands of tweets.
        self.by_author: defaultdict[str, list[SimTweet]] = defaultdict(list)
        self.by_text: defaultdict[tuple[str, str], list[SimTweet]] = defaultdict(list)
        self.media: dict[str, SimMedia] = {}
        self.media_script: deque[str] = deque()
        self.upload_script: deque[str] = deque()
        self.timeline_script: deque[str] = deque()  # GET /2/users/:id/tweets, one entry a call
        self.windows = RateWindows()
        self.stats = Stats()
        # The JSON bodies clients sent to create tweets and start uploads, newest last, so a
        # test can check what Herald sends against X's published request schemas.
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUESTS_KEPT)

    def configure(self, changes: object) -> None:
        config = merge_x_config(self.config, changes)
        if isinstance(changes, dict) and "seed" in changes:
            self.injector.reseed(config.common.seed)
        self.config = config

    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def user_named(self, username: str) -> XUser | None:
        wanted = username.lower()
        return next((u for u in self.users.values() if u.username.lower() == wanted), None)

    def remember(self, authorization: Authorization) -> str:
        """Holds a consent request until the user answers it; the id goes in the form."""
        if len(self.pending) >= PENDING_KEPT:  # a page never answered is dropped eventually
            del self.pending[next(iter(self.pending))]
        request_id = secrets.token_urlsafe(16)
        self.pending[request_id] = authorization
        return request_id

    def grant(self, user: XUser, client_id: str, scope: tuple[str, ...]) -> Grant:
        return Grant(user, client_id, scope)

    def create_tweet(self, draft: dict[str, Any]) -> SimTweet:
        delay = self.config.timeline_delay_s
        tweet = SimTweet(id=self.new_id(), visible_at=time.monotonic() + delay, **draft)
        self.tweets[tweet.id] = tweet
        self.by_author[tweet.author.id].append(tweet)
        self.by_text[tweet.author.id, tweet.text].append(tweet)
        return tweet

    def live_tweet(self, tweet_id: object) -> SimTweet | None:
        tweet = self.tweets.get(tweet_id) if isinstance(tweet_id, str) else None
        return tweet if tweet is not None and not tweet.deleted else None

    def record(self, endpoint: str, body: dict[str, Any]) -> None:
        self.requests.append({"endpoint": endpoint, "body": body})

    def media_refusal(self, ids: list[str], owner_id: str) -> str | None:
        return refusal(self.media, ids, owner_id)

    def next_media_outcome(self) -> str:
        return self.media_script.popleft() if self.media_script else "ok"

    def next_token_fault(self) -> str | None:
        entry = self.token_script.popleft() if self.token_script else "ok"
        return None if entry == "ok" else entry

    def stats_wire(self) -> dict[str, Any]:
        stats, tokens = self.stats, self.tokens.stats
        return {
            "creates": stats.creates,
            "tweets": sum(not t.deleted for t in self.tweets.values()),
            "duplicates": stats.duplicates,
            "deletes": stats.deletes,
            "timelines": stats.timelines,
            "me": stats.me,
            "uploads": stats.uploads,
            "status_polls": stats.status_polls,
            "rate_limited": stats.rate_limited,
            "consents": stats.consents,
            "denials": stats.denials,
            "codes_issued": tokens.codes_issued,
            "codes_exchanged": tokens.codes_exchanged,
            "refreshes": tokens.refreshes,
            "refreshes_by_user": dict(tokens.refreshes_by_user),
            "token_refusals": tokens.refused,
            "token_faults": stats.token_faults,
            "upload_faults": stats.upload_faults,
            "faults": dict(self.injector.counts),
        }
