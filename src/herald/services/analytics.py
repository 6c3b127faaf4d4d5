"""post-statistics and profile-statistics (publora-latest §2.5): read from Mastodon and
Bluesky when asked, kept two hours per connection (shared by everyone who reads that
account), missing posts remembered as long, and a platform's 429 respected until its reset
(Mastodon per connection, Bluesky platform-wide). Only posts Herald published for the caller
are asked about; any other id is null without a call."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.db.engine import unit_of_work
from herald.domain import analytics as rules
from herald.domain.platform import Platform
from herald.errors import AppError, NotFoundError, UpstreamError, ValidationError
from herald.models import Connection, PublishTarget
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    AuthExpiredError,
    PostMetrics,
    PublishError,
    RejectedError,
    RetryableError,
)
from herald.platforms.registry import statistics_reader_for
from herald.services.secret_box import SecretBox
from herald.store.analytics_cache import AnalyticsCacheStore
from herald.store.connection import ConnectionStore


class AnalyticsTimeoutError(AppError):
    status_code = 504
    code = "ANALYTICS_REQUEST_TIMEOUT"


@dataclass(frozen=True)
class PostQuery:
    platform: str
    external_id: str
    posted_id: str


def parse_post_query(body: Mapping[str, Any]) -> list[PostQuery]:
    posts = body.get("posts")
    if not isinstance(posts, list) or not posts:
        raise ValidationError(rules.POSTS_REQUIRED, code="POSTS_REQUIRED")
    if len(posts) > rules.MAX_POSTS:
        raise ValidationError(rules.TOO_MANY_POSTS, code="TOO_MANY_POSTS")
    queries = []
    for entry in posts:
        fields = (
            [entry.get(k) for k in ("platform", "platformId", "postedId")]
            if isinstance(entry, dict)
            else [None]
        )
        if not all(isinstance(f, str) and 0 < len(f) <= rules.MAX_FIELD_CHARACTERS for f in fields):
            raise ValidationError(rules.BAD_ENTRY, code="INVALID_POST_ENTRY")
        platform, platform_id, posted_id = (str(f) for f in fields)
        if platform not in rules.SUPPORTED:
            raise ValidationError(rules.unsupported(platform), code="UNSUPPORTED_PLATFORM")
        queries.append(PostQuery(platform, rules.external_id(platform, platform_id), posted_id))
    return queries


def parse_profile_query(body: Mapping[str, Any]) -> tuple[str, str]:
    platform, platform_id = body.get("platform"), body.get("platformId")
    if not (
        isinstance(platform, str) and platform and isinstance(platform_id, str) and platform_id
    ):
        raise ValidationError(rules.PROFILE_FIELDS_REQUIRED, code="MISSING_FIELD")
    if len(platform_id) > rules.MAX_FIELD_CHARACTERS:
        raise ValidationError(rules.PROFILE_FIELDS_REQUIRED, code="MISSING_FIELD")
    if platform not in rules.SUPPORTED:
        raise ValidationError(rules.unsupported(platform), code="UNSUPPORTED_PLATFORM")
    return platform, rules.external_id(platform, platform_id)


def metrics_wire(metrics: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if metrics is None:
        return None
    return {**{k: metrics.get(k) for k in rules.METRIC_KEYS}, **dict.fromkeys(rules.NEVER_REPORTED)}


def _post_key(connection_id: str, posted_id: str) -> str:
    return f"post:{connection_id}:{posted_id}"


def _profile_key(connection_id: str) -> str:
    return f"profile:{connection_id}"


def _cooldown_key(connection: Connection) -> str:
    # Bluesky's limits are the AppView's, for everyone; Mastodon's are the account's.
    if connection.platform == Platform.BLUESKY.value:
        return "cooldown:bluesky"
    return f"cooldown:{connection.id}"


@dataclass
class _Batch:
    """One connection's posts to fetch."""

    connection: Connection
    credentials: dict[str, Any]
    posted_ids: list[str] = field(default_factory=list)


@dataclass
class PostStatistics:
    stats: dict[str, dict[str, Any] | None]
    issues: dict[str, str]
    rate_limited: bool


def _issue_of(error: PublishError) -> str:
    if isinstance(error, AuthExpiredError):
        return "AUTH_REVOKED"
    if isinstance(error, RejectedError) and error.http_status == 403:
        return "FORBIDDEN"
    if isinstance(error, RetryableError) and error.rate_limited:
        return "RATE_LIMITED"
    return "FETCH_FAILED"


def _cooldown(error: PublishError) -> timedelta:
    wait = error.retry_after if isinstance(error, RetryableError) else None
    return min(timedelta(seconds=wait), rules.MAX_COOLDOWN) if wait else rules.DEFAULT_COOLDOWN


async def _published(
    session: AsyncSession, connections: Iterable[Connection], queries: Sequence[PostQuery]
) -> set[tuple[str, str]]:
    """(connection id, posted id) pairs Herald published: only those are asked about."""
    ids = {c.id for c in connections}
    posted = {q.posted_id for q in queries}
    if not ids:
        return set()
    query = select(PublishTarget.connection_id, PublishTarget.external_id).where(
        PublishTarget.connection_id.in_(ids),
        PublishTarget.external_id.in_(posted),
        PublishTarget.state == "published",
    )
    return {(str(c), str(p)) for c, p in (await session.execute(query)).all()}


async def post_statistics(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    client: HttpClient,
    account_id: str,
    queries: Sequence[PostQuery],
    now: datetime,
) -> PostStatistics:
    result = PostStatistics({q.posted_id: None for q in queries}, {}, False)
    async with unit_of_work(sessions, write=False) as session:
        batches = await _plan(session, box, account_id, queries, now, result)
    fetched: list[tuple[str, dict[str, Any] | None]] = []
    cooldowns: list[tuple[str, datetime]] = []
    for batch in batches.values():
        fetched += await _fetch(client, batch, now, result, cooldowns)
    if fetched or cooldowns:
        async with unit_of_work(sessions, write=True) as session:
            cache = AnalyticsCacheStore(session)
            await cache.put(fetched, now, now + rules.CACHE_FOR)
            for key, until in cooldowns:
                await cache.put([(key, {})], now, until)
    return result


async def _plan(
    session: AsyncSession,
    box: SecretBox,
    account_id: str,
    queries: Sequence[PostQuery],
    now: datetime,
    result: PostStatistics,
) -> dict[str, _Batch]:
    """Answers what the cache and the rules answer; the rest, per connection, to fetch."""
    batches: dict[str, _Batch] = {}
    keys = {(q.platform, q.external_id) for q in queries}
    found = await ConnectionStore(session).find_many(account_id, keys)
    ours = await _published(session, found.values(), queries)
    cached = await AnalyticsCacheStore(session).fresh(
        {_post_key(c.id, q.posted_id) for q in queries for c in found.values()}
        | {_cooldown_key(c) for c in found.values()},
        now,
    )
    for q in queries:
        connection = found.get((q.platform, q.external_id))
        label = f"{q.platform}-{q.external_id}"
        if connection is None:
            result.issues[label] = "CONNECTION_NOT_FOUND"
            continue
        if (connection.id, q.posted_id) not in ours:
            continue  # not one of the caller's published posts: null, nothing asked
        entry = cached.get(_post_key(connection.id, q.posted_id))
        if entry is not None:
            result.stats[q.posted_id] = metrics_wire(entry.value)
        elif _cooldown_key(connection) in cached:
            result.rate_limited = True
            result.issues[label] = "RATE_LIMITED"
        else:
            if connection.id not in batches:
                opened = box.open(connection.credentials) if connection.credentials else {}
                batches[connection.id] = _Batch(connection, opened)
            batches[connection.id].posted_ids.append(q.posted_id)
    return batches


async def _fetch(
    client: HttpClient,
    batch: _Batch,
    now: datetime,
    result: PostStatistics,
    cooldowns: list[tuple[str, datetime]],
) -> list[tuple[str, dict[str, Any] | None]]:
    connection = batch.connection
    reader = statistics_reader_for(Platform(connection.platform))
    label = f"{connection.platform}-{connection.external_id}"
    if reader is None:
        result.issues[label] = "FETCH_FAILED"
        return []
    try:
        metrics = await reader.post_metrics(
            client, batch.credentials, connection.options or {}, batch.posted_ids
        )
    except PublishError as error:
        result.issues[label] = _issue_of(error)
        if result.issues[label] == "RATE_LIMITED":
            result.rate_limited = True
            cooldowns.append((_cooldown_key(connection), now + _cooldown(error)))
        return []
    fetched = []
    for posted_id in batch.posted_ids:
        value = _as_dict(metrics.get(posted_id))
        result.stats[posted_id] = metrics_wire(value)
        fetched.append((_post_key(connection.id, posted_id), value))
    return fetched


def _as_dict(metrics: PostMetrics | None) -> dict[str, Any] | None:
    return asdict(metrics) if metrics is not None else None


@dataclass
class ProfileStatistics:
    profile: dict[str, Any] | None
    cached: bool
    fetched_at: datetime | None
    rate_limited: bool = False
    unavailable: str | None = None


async def profile_statistics(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    client: HttpClient,
    account_id: str,
    platform: str,
    external_id: str,
    now: datetime,
) -> ProfileStatistics:
    async with unit_of_work(sessions, write=False) as session:
        connection = await ConnectionStore(session).find(account_id, platform, external_id)
        if connection is None:
            raise NotFoundError(rules.connection_not_found(platform), code="CONNECTION_NOT_FOUND")
        key, cooldown = _profile_key(connection.id), _cooldown_key(connection)
        cached = await AnalyticsCacheStore(session).fresh({key, cooldown}, now)
        credentials = box.open(connection.credentials) if connection.credentials else {}
    if key in cached:
        return ProfileStatistics(cached[key].value, True, cached[key].fetched_at)
    if cooldown in cached:
        return ProfileStatistics(None, False, None, rate_limited=True)
    reader = statistics_reader_for(Platform(platform))
    if reader is None:
        raise UpstreamError(f"Herald cannot read {platform} statistics")
    try:
        metrics = await reader.profile_metrics(
            client, credentials, connection.options or {}, connection.external_id
        )
    except PublishError as error:
        issue = _issue_of(error)
        if issue == "RATE_LIMITED":
            async with unit_of_work(sessions, write=True) as session:
                await AnalyticsCacheStore(session).put(
                    [(cooldown, {})], now, now + _cooldown(error)
                )
            return ProfileStatistics(None, False, None, rate_limited=True)
        if issue in ("AUTH_REVOKED", "FORBIDDEN"):
            return ProfileStatistics(None, False, None, unavailable=issue)
        raise UpstreamError(f"Could not read the {platform} profile: {error.message}") from None
    value = asdict(metrics)
    async with unit_of_work(sessions, write=True) as session:
        await AnalyticsCacheStore(session).put([(key, value)], now, now + rules.CACHE_FOR)
    return ProfileStatistics(value, False, now)


async def within_budget(work: Any) -> Any:
    """Publora's 90-second budget for one analytics request."""
    try:
        async with asyncio.timeout(rules.BUDGET_SECONDS):
            return await work
    except TimeoutError:
        raise AnalyticsTimeoutError(rules.TIMED_OUT) from None
