"""All the YouTube simulator's state, owned by its event loop: tokens, upload sessions, videos,
playlist items, thumbnails, the day's quota and the counts tests read."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from herald.sim.faults import ConfigError, FaultInjector
from herald.sim.youtube.config import YouTubeConfig, merge_config

PACIFIC = ZoneInfo("America/Los_Angeles")
CODE_TTL_S = 600.0  # Google's authorization codes live about ten minutes [recalled]
UPLOAD_FAULTS = frozenset({"lost_response", "unavailable", "timeout"})


@dataclass(slots=True)
class Grant:
    scope: str
    expires: float  # time.monotonic()
    refresh_token: str | None = None


@dataclass(slots=True)
class Code:
    client_id: str
    redirect_uri: str
    scope: str
    offline: bool
    challenge: str | None
    expires: float


@dataclass(slots=True)
class UploadSession:
    id: str
    metadata: dict[str, Any]
    total: int | None  # X-Upload-Content-Length, when the client declared it
    content_type: str
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    video_id: str | None = None  # set once the last byte arrived


@dataclass(slots=True)
class Video:
    id: str
    snippet: dict[str, Any]
    status: dict[str, Any]
    size: int
    sha256: str
    session_id: str
    uploaded_at: float = field(default_factory=time.monotonic)
    published_at: str = ""


def _new_stats() -> dict[str, int]:
    names = (
        "sessions",
        "chunks",
        "bytes_received",
        "bytes_arrived",
        "status_queries",
        "videos",
        "codes_exchanged",
        "refreshes",
        "playlist_items",
        "thumbnails",
        "quota_refusals",
        "lost_answers",
        "video_reads",
    )
    return dict.fromkeys(names, 0)


class YouTubeSim:
    def __init__(self, config: YouTubeConfig) -> None:
        self.initial = config
        self.config = config
        self.injector = FaultInjector(config.seed)
        self.upload_script: deque[str] = deque()
        self._clear()

    def _clear(self) -> None:
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> scope
        self.sessions: dict[str, UploadSession] = {}
        self.videos: dict[str, Video] = {}
        self.playlist_items: list[dict[str, Any]] = []
        self.thumbnails: dict[str, dict[str, Any]] = {}
        self.stats: dict[str, int] = _new_stats()
        self.quota_day = ""
        self.uploads_today = 0
        self.units_today = 0

    def configure(self, changes: object) -> None:
        self.config = merge_config(self.config, changes)
        if isinstance(changes, dict) and "seed" in changes:
            self.injector.reseed(self.config.seed)

    def reset(self) -> None:
        self.config = self.initial
        self.injector = FaultInjector(self.config.seed)
        self.upload_script.clear()
        self._clear()

    def stats_wire(self) -> dict[str, Any]:
        return {**self.stats, "uploads_today": self.uploads_today, "units_today": self.units_today}

    def script_uploads(self, entries: object) -> None:
        if not isinstance(entries, list) or not all(
            e in UPLOAD_FAULTS or e == "ok" for e in entries
        ):
            raise ConfigError(f"upload faults are {sorted(UPLOAD_FAULTS)} or 'ok'")
        self.upload_script.extend(entries)

    def next_upload_fault(self) -> str | None:
        if not self.upload_script:
            return None
        entry = self.upload_script.popleft()
        return None if entry == "ok" else entry

    # Tokens

    def issue(self, scope: str, offline: bool) -> dict[str, Any]:
        """The token endpoint's answer for a new grant."""
        access = "ya29." + secrets.token_urlsafe(32)
        refresh = "1//" + secrets.token_urlsafe(32) if offline else None
        ttl = self.config.access_token_ttl_s
        self.tokens[access] = Grant(scope, time.monotonic() + ttl, refresh)
        if refresh is not None:
            self.refresh_tokens[refresh] = scope
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": ttl,
            "scope": scope,
            "token_type": "Bearer",
        }
        if refresh is not None:
            answer["refresh_token"] = refresh
        return answer

    def refresh(self, refresh_token: str) -> dict[str, Any] | None:
        """A new access token for a live refresh token; Google's refresh tokens do not rotate,
        so the answer carries none [docs]."""
        scope = self.refresh_tokens.get(refresh_token)
        if scope is None:
            return None
        self.stats["refreshes"] += 1
        answer = self.issue(scope, offline=False)
        self.tokens[answer["access_token"]].refresh_token = refresh_token
        return answer

    def grant_of(self, access_token: str) -> Grant | None:
        grant = self.tokens.get(access_token)
        if grant is None or grant.expires < time.monotonic():
            return None
        return grant

    def expire_tokens(self) -> int:
        now = time.monotonic()
        live = [g for g in self.tokens.values() if g.expires >= now]
        for grant in live:
            grant.expires = now - 1
        return len(live)

    def revoke(self, token: str) -> bool:
        """Revoking either token ends the whole grant [docs]."""
        refresh = self.tokens[token].refresh_token if token in self.tokens else token
        if refresh not in self.refresh_tokens and token not in self.tokens:
            return False
        self.refresh_tokens.pop(refresh or "", None)
        for access in [a for a, g in self.tokens.items() if g.refresh_token == refresh]:
            del self.tokens[access]
        self.tokens.pop(token, None)
        return True

    # Quota

    def _roll_day(self) -> None:
        day = datetime.now(PACIFIC).date().isoformat()
        if day != self.quota_day:
            self.quota_day, self.uploads_today, self.units_today = day, 0, 0

    def spend(self, units: int, *, upload: bool = False) -> bool:
        """Charge a call to the day's quota (midnight Pacific resets it); False when spent."""
        self._roll_day()
        if upload:
            limit, used = self.config.daily_uploads, self.uploads_today
        else:
            limit, used = self.config.daily_units, self.units_today
        if limit is not None and used + (1 if upload else units) > limit:
            self.stats["quota_refusals"] += 1
            return False
        if upload:
            self.uploads_today += 1
        else:
            self.units_today += units
        return True

    # Videos

    def new_id(self, size: int = 11) -> str:
        return secrets.token_urlsafe(size)[:size]

    def finish(self, session: UploadSession) -> Video:
        video_id = self.new_id()
        snippet = dict(session.metadata.get("snippet") or {})
        status = dict(session.metadata.get("status") or {})
        video = Video(
            id=video_id,
            snippet=snippet,
            status=status,
            size=session.received,
            sha256=session.digest.hexdigest(),
            session_id=session.id,
            published_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.videos[video_id] = video
        session.video_id = video_id
        self.stats["videos"] += 1
        return video

    def processed(self, video: Video) -> bool:
        return time.monotonic() - video.uploaded_at >= self.config.processing_s
