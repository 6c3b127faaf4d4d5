"""The Connector protocol, the plain data it takes and returns, and its error taxonomy.

Connectors take plain data (a PublishRequest and decrypted credentials) and return plain data. They
raise only the errors below, and the engine decides what to do from the class alone:

    PublishError
    ├── RetryableError       definitely NOT created; safe to send again after `retry_after`
    │                        (`rate_limited` marks a 429: the whole connection waits); a
    │                        platform's delay is bounded here (domain.publishing.bounded_delay)
    ├── AuthExpiredError     credentials rejected; the connection needs re-authorisation
    ├── RejectedError        the platform refused this content for good (validation, policy),
    │                        or Herald's egress policy refused the address (code EGRESS_DENIED)
    └── OutcomeUnknownError  the request may have been created (timeout after sending, reset,
                             5xx after the body went out); never blindly retried

When a connector cannot tell whether a post was created, it must raise OutcomeUnknownError.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from herald.domain.platform import Platform
from herald.domain.publishing import bounded_delay
from herald.net.http_client import (
    HttpClient,
)


@dataclass(frozen=True)
class MediaItem:
    kind: str  # "image" | "video"
    content_type: str
    url: str  # public URL, for platforms that fetch media themselves
    alt_text: str | None = None
    # The bytes, streamed from Herald's media store, for platforms that take uploads.
    open: Callable[[], AsyncIterator[bytes]] | None = None
    # The byte count `open` yields, when known beforehand (X's upload declares it first).
    size: int | None = None


@dataclass(frozen=True)
class UploadCheckpoint:
    """A resumable upload as far as the platform confirmed it: its session handle (YouTube's
    session URI, a capability: the engine stores it sealed) and the bytes it holds."""

    session: str
    offset: int
    total: int


class ClaimLostError(Exception):
    """This worker no longer holds the target (rescued, released or claimed again): raised by
    an UploadJournal's save, so the upload stops where it is. Deliberately not a PublishError:
    connectors let it through, and the engine records nothing, since the claim is someone
    else's now."""


class UploadJournal(Protocol):
    """Where a connector keeps its upload's checkpoint, durably, as the upload proceeds: a
    worker that dies mid-upload leaves it for the next one to resume from."""

    async def load(self) -> UploadCheckpoint | None: ...

    async def save(self, checkpoint: UploadCheckpoint) -> None:
        """Raises ClaimLostError, and writes nothing, once the claim is lost."""


@dataclass(frozen=True)
class PublishRequest:
    """One platform call: part `part_index` of the target's thread plan."""

    target_id: str
    platform: Platform
    account_external_id: str
    text: str
    part_index: int = 0
    part_count: int = 1
    reply_to_id: str | None = None  # the previous part's external id, for threads
    root_id: str | None = None  # the first part's external id, for threads
    media: Sequence[MediaItem] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)  # platformSettings[platform]
    options: Mapping[str, Any] = field(default_factory=dict)  # connection options (base URL)
    credentials: Mapping[str, Any] = field(default_factory=dict)
    # The time the owner asked for; unlike the due time it never moves on retries, so a
    # connector may derive stable values from it (Bluesky's record key).
    scheduled_at: datetime | None = None
    # The target's upload checkpoint (video platforms); None where nothing keeps one.
    uploads: UploadJournal | None = None
    # The group's artwork by id (upload-youtube-thumbnail), which settings name.
    artwork: Mapping[str, MediaItem] = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    external_id: str
    url: str | None = None


@dataclass(frozen=True)
class Profile:
    external_id: str
    username: str
    display_name: str
    profile_image_url: str = ""
    profile_url: str | None = None
    access_token_expires_at: datetime | None = None
    # Non-secret facts learnt while verifying that publishing needs later (a Telegram
    # channel's username for its URLs); stored with the connection's options.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Capabilities:
    # How long the platform honours an idempotency key (Mastodon: 1 h); None: no keys.
    idempotency_ttl: timedelta | None
    supports_lookup: bool
    threads: bool


class PublishError(Exception):
    """Base of every connector failure; `message` is safe to show to the post's owner."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


class RetryableError(PublishError):
    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        rate_limited: bool = False,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status)
        # Whatever a connector parsed, the engine only ever sees a sane wait (or none).
        self.retry_after = bounded_delay(retry_after)
        self.rate_limited = rate_limited

    @classmethod
    def rate_limit(
        cls, message: str, retry_after: float | None, http_status: int = 429
    ) -> RetryableError:
        """A platform's rate limit: the engine holds the whole connection until `retry_after`."""
        return cls(message, retry_after=retry_after, rate_limited=True, http_status=http_status)


class AuthExpiredError(PublishError):
    pass


class RejectedError(PublishError):
    """`code` is what the failed post shows as its errorCode."""

    def __init__(
        self, message: str, *, code: str = "PLATFORM_REJECTED", http_status: int | None = None
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.code = code


class OutcomeUnknownError(PublishError):
    pass


class Connector(Protocol):
    platform: Platform
    capabilities: Capabilities

    async def verify(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> Profile:
        """Check the credentials with the platform and return the account's profile.

        Raises AuthExpiredError when the platform refuses the credentials, RejectedError when
        they can never publish (a Telegram bot that is not an admin of the channel, a missing
        field), RetryableError when the platform cannot be reached. Messages name the platform
        and the reason, and never contain a secret."""

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        """Create the post (or thread part). Must send `idempotency_key` where the platform
        takes one, so a re-send within the key's lifetime cannot create a second post."""

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        """Find a post an earlier, in-doubt attempt may have created; None if there is none."""


class PageLister(Protocol):
    """Connectors whose one grant also publishes for pages the account administers (LinkedIn
    company pages): each page becomes a connection of its own, sharing the token."""

    async def administered_pages(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> list[Profile]:
        """The pages, as profiles whose options say whom a post is by; errors as verify's."""


@dataclass(frozen=True)
class PostMetrics:
    """Engagement of one post as the platform counts it; None where it reports nothing."""

    reactions: int | None
    comments: int | None
    reposts: int | None
    quotes: int | None
    saves: int | None


@dataclass(frozen=True)
class ProfileMetrics:
    followers: int | None
    following: int | None
    posts: int | None


class StatisticsReader(Protocol):
    """Connectors that read statistics back (Mastodon, Bluesky). Errors are the taxonomy's:
    AuthExpiredError (revoked), RejectedError (http_status 403: forbidden), RetryableError
    (rate_limited for a 429, with retry_after), anything else a failed fetch."""

    async def post_metrics(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        posted_ids: Sequence[str],
    ) -> dict[str, PostMetrics | None]:
        """Metrics by posted id; None for a post the platform does not have (deleted)."""

    async def profile_metrics(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        account_external_id: str,
    ) -> ProfileMetrics: ...
