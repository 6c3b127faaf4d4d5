"""Publishing a post's first comment (publora-latest §5.5) once the post is out.

The comment is a reply by the same account to the post's first part, sent through the
connector's thread path as the part after the last one (so its idempotency key, Bluesky record
key and sandbox reference are its own). It has a gate of its own: "pending" is committed, with
the claim token moved on, before the call, so it is attempted at most once and never re-sends
the post. An unknown outcome is looked up like a post's; a failed comment never changes the
post. Each call is logged as an attempt (part = the comment's index)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.first_comment import applies_to, from_stored
from herald.domain.platform import Platform
from herald.domain.publishing import part_key
from herald.domain.timestamps import format_timestamp, utc_now
from herald.engine.batching import WriteBatcher
from herald.models import PublishAttempt
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    AuthExpiredError,
    Connector,
    Published,
    PublishError,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.services.first_comment import PROGRESS_KEY
from herald.store.first_comment import FirstCommentStore
from herald.store.publish_queue import ClaimedTarget
from herald.store.publish_result import PublishResultStore

logger = logging.getLogger("herald.engine")


@dataclass(frozen=True)
class CommentFailure:
    code: str
    message: str
    http_status: int | None = None
    outcome_unknown: bool = False


def _failure(error: PublishError) -> CommentFailure:
    if isinstance(error, AuthExpiredError):
        code = "PLATFORM_AUTH_EXPIRED"
    elif isinstance(error, RejectedError):
        code = error.code
    elif isinstance(error, RetryableError):
        code = "RATE_LIMITED" if error.rate_limited else "FIRST_COMMENT_NOT_POSTED"
    else:
        code = "PUBLISH_OUTCOME_UNKNOWN"
    return CommentFailure(code, error.message, error.http_status)


@dataclass
class CommentPoster:
    client: HttpClient
    writer: WriteBatcher

    async def post(
        self,
        claim: ClaimedTarget,
        first_comment: dict[str, Any] | None,
        connector: Connector,
        post_request: PublishRequest,
        progress: dict[str, Any],
    ) -> None:
        """After the target's success was recorded under `claim`; `post_request` is a request
        of the target (account, settings, credentials), `progress` what was stored with the
        success."""
        comment = from_stored(first_comment)
        if comment is None or not applies_to(comment, Platform(claim.platform)):
            return
        ids = progress["partIds"]
        index = len(ids)
        state = {"status": "pending", "attemptedAt": format_timestamp(utc_now())}
        gated = {**progress, PROGRESS_KEY: state}
        token = claim.claim_token

        async def gate(session: AsyncSession) -> bool:
            return await FirstCommentStore(session).open_gate(claim.id, token, gated)

        if not await self.writer.run(gate):
            return  # edited, or another worker is at it: never a second comment
        request = PublishRequest(
            target_id=claim.id,
            platform=post_request.platform,
            account_external_id=post_request.account_external_id,
            text=comment.text.strip(),
            part_index=index,
            part_count=index + 1,
            reply_to_id=ids[0],
            root_id=ids[0],
            settings=post_request.settings,
            options=post_request.options,
            credentials=post_request.credentials,
            scheduled_at=post_request.scheduled_at,
        )
        key = part_key(claim.idempotency_key, index)
        outcome = await self._send(connector, request, key)
        await self._record(claim, token + 1, index, gated, state, outcome)

    async def _send(
        self, connector: Connector, request: PublishRequest, key: str
    ) -> Published | CommentFailure:
        try:
            return await connector.publish(self.client, request, key)
        except (RetryableError, AuthExpiredError, RejectedError) as error:
            return _failure(error)  # definitely not created
        except PublishError as error:  # may exist: look it up, as for a post
            return await self._look_up(connector, request, key, error)

    async def _look_up(
        self, connector: Connector, request: PublishRequest, key: str, error: PublishError
    ) -> Published | CommentFailure:
        unknown = CommentFailure(
            "PUBLISH_OUTCOME_UNKNOWN", error.message, error.http_status, outcome_unknown=True
        )
        if not connector.capabilities.supports_lookup:
            return unknown
        try:
            found = await connector.lookup(self.client, request, key)
        except PublishError:
            return unknown
        if found is None:
            return CommentFailure("FIRST_COMMENT_NOT_POSTED", error.message, error.http_status)
        return found

    async def _record(
        self,
        claim: ClaimedTarget,
        token: int,
        index: int,
        gated: dict[str, Any],
        pending: dict[str, Any],
        outcome: Published | CommentFailure,
    ) -> None:
        now = format_timestamp(utc_now())
        if isinstance(outcome, Published):
            state = {**pending, "status": "posted", "commentId": outcome.external_id}
            state["postedAt"] = now
            logged, external_id, error = "comment_posted", outcome.external_id, None
        else:
            state = {**pending, "status": "failed", "commentId": None}
            state["error"] = {
                "code": outcome.code,
                "message": outcome.message,
                "platformStatusCode": outcome.http_status,
                "outcomeUnknown": outcome.outcome_unknown,
            }
            logged = "comment_unknown" if outcome.outcome_unknown else "comment_failed"
            external_id, error = None, outcome.message
        progress = {**gated, PROGRESS_KEY: state}
        attempt = PublishAttempt(
            target_id=claim.id,
            claim_token=token,
            version=claim.version,
            part=index,
            outcome=logged,
            http_status=None if isinstance(outcome, Published) else outcome.http_status,
            external_id=external_id,
            error=error,
        )

        async def write(session: AsyncSession) -> None:
            await FirstCommentStore(session).record(claim.id, token, progress)
            await PublishResultStore(session).log_attempt(attempt)

        await self.writer.run(write)
        logger.info("publish.first_comment target=%s outcome=%s", claim.id, logged)
