"""Publora's LinkedIn action endpoints (publora-latest §2.10–2.13): comments, reactions,
reshares and post statistics, made through the caller's own LinkedIn connection. A connection
is found only among the caller's (tenant-scoped); the calls run outside any transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db.engine import unit_of_work
from herald.domain.platform import Platform
from herald.errors import AppError, NotFoundError, ValidationError
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PublishError,
    RejectedError,
    RetryableError,
)
from herald.platforms.linkedin import actions
from herald.platforms.linkedin.api import LinkedInApi, api_for
from herald.services.secret_box import SecretBox
from herald.store.analytics_cache import AnalyticsCacheStore
from herald.store.connection import ConnectionStore

T = TypeVar("T")
CALL_TIMEOUT_S = 20.0
CACHE_FOR = timedelta(hours=2)
NOT_FOUND = "LinkedIn connection not found"
INVALID_PLATFORM_ID = "Invalid platformId"
PREFIX = "linkedin-"


class LinkedInRefusalError(AppError):
    """Publora's LinkedIn failure bodies: `error` is a symbol or a fixed sentence, with
    `details` or `retryAfter` beside it."""

    def __init__(self, status: int, error: str, code: str, **extra: Any) -> None:
        super().__init__(error, code=code, **extra)
        self.status_code = status


class ReactionExistsError(AppError):
    """Publora's 409: {"error": "REACTION_ALREADY_EXISTS", "message", "requestedReactionType"}."""

    status_code = 409
    code = "REACTION_ALREADY_EXISTS"

    def __init__(self, requested: str) -> None:
        super().__init__("A reaction to this post already exists; remove it first")
        self.requested = requested

    def body(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "message": self.message,
            "code": self.code,
            "requestedReactionType": self.requested,
        }


@dataclass(frozen=True)
class Author:
    """The connection a call goes through: its API, and whom it acts as."""

    api: LinkedInApi
    urn: str
    is_page: bool
    connection_id: str


def external_id(platform_id: object) -> str:
    """The connection's external id from Publora's `linkedin-<id>` (the prefix optional)."""
    if not isinstance(platform_id, str):
        raise ValidationError("platformId must be a string", code="INVALID_PLATFORM_ID")
    value = platform_id.strip().removeprefix(PREFIX)
    if not value or len(value) > 200 or "\x00" in value:
        raise ValidationError(INVALID_PLATFORM_ID, code="INVALID_PLATFORM_ID")
    return value


async def with_author(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    settings: Settings,
    account_id: str,
    platform_id: object,
    call: Callable[[Author], Awaitable[T]],
    failed: str,
) -> T:
    """Run `call` as the caller's LinkedIn connection; LinkedIn's refusals become Publora's
    answers, with `failed` as the sentence for anything else."""
    wanted = external_id(platform_id)
    async with unit_of_work(sessions, write=False) as session:
        connection = await ConnectionStore(session).find(
            account_id, Platform.LINKEDIN.value, wanted
        )
        if connection is None or connection.credentials is None:
            raise NotFoundError(NOT_FOUND, code="CONNECTION_NOT_FOUND")
        credentials = box.open(connection.credentials)
        options: Mapping[str, Any] = dict(connection.options or {})
        connection_id = connection.id
    async with one_off_client(EgressPolicy.from_settings(settings), CALL_TIMEOUT_S) as client:
        try:
            api = api_for(
                client, credentials, {**options, "linkedinVersion": settings.linkedin_version}
            )
            author = options.get("author")
            urn = author if isinstance(author, str) else f"urn:li:person:{wanted}"
            is_page = urn.startswith("urn:li:organization:")
            return await call(Author(api, urn, is_page, connection_id))
        except PublishError as error:
            raise failure(error, failed) from None


def failure(error: PublishError, failed: str) -> AppError:
    """Publora's symbols (G/error-codes): LINKEDIN_TOKEN_EXPIRED 401, LINKEDIN_RATE_LIMITED 429
    with retryAfter, LINKEDIN_REQUEST_TIMEOUT 504; LinkedIn's own 403 forwarded; else 500."""
    if isinstance(error, AuthExpiredError):
        return LinkedInRefusalError(401, "LINKEDIN_TOKEN_EXPIRED", "LINKEDIN_TOKEN_EXPIRED")
    if isinstance(error, RetryableError) and error.rate_limited:
        wait = int(error.retry_after or 60)
        return LinkedInRefusalError(
            429, "LINKEDIN_RATE_LIMITED", "LINKEDIN_RATE_LIMITED", retryAfter=wait
        )
    if isinstance(error, OutcomeUnknownError):
        return LinkedInRefusalError(504, "LINKEDIN_REQUEST_TIMEOUT", "LINKEDIN_REQUEST_TIMEOUT")
    if isinstance(error, RejectedError) and error.http_status == 403:
        return LinkedInRefusalError(403, error.message, "LINKEDIN_FORBIDDEN")
    return LinkedInRefusalError(500, failed, "LINKEDIN_REQUEST_FAILED", details=error.message)


async def post_statistics(
    sessions: async_sessionmaker[AsyncSession],
    author: Author,
    urn: str,
    metrics: tuple[str, ...],
    now: datetime,
) -> tuple[dict[str, int], bool]:
    """The counts and whether they came from the cache: Publora keeps a post's LinkedIn
    statistics two hours (§2.13), per connection and post, shared by every reader."""
    key = f"linkedin-post:{author.connection_id}:{urn}"
    async with unit_of_work(sessions, write=False) as session:
        entry = (await AnalyticsCacheStore(session).fresh({key}, now)).get(key)
        held = dict(entry.value or {}) if entry is not None else {}
        held_until = entry.expires_at if entry is not None else None
    if all(isinstance(held.get(m), int) for m in metrics):
        return {m: int(held[m]) for m in metrics}, True
    counts = await actions.post_metrics(author.api, urn, metrics)
    async with unit_of_work(sessions, write=True) as session:
        # Metrics fetched earlier keep their own expiry: only a fresh read starts a new window.
        until = held_until if held_until is not None else now + CACHE_FOR
        await AnalyticsCacheStore(session).put([(key, {**held, **counts})], now, until)
    return counts, False
