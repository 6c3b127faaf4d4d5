"""Publishing one claimed target: gate, then each remaining thread part, then the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from herald.domain.platform import Platform
from herald.domain.publishing import MAX_CRASHES, part_key
from herald.domain.timestamps import utc_now
from herald.engine.batching import GateBatcher
from herald.engine.first_comment import CommentPoster
from herald.engine.media_prep import MediaPreparer, Refuse, Wait
from herald.engine.metrics import EngineMetrics
from herald.engine.outcome import Recorder, lateness
from herald.net.http_client import HttpClient
from herald.platforms.base import (
    AuthExpiredError,
    Connector,
    MediaItem,
    PublishError,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.registry import connector_for
from herald.services.secret_box import SecretBox
from herald.store.publish_context import ConnectionContext, GroupContext
from herald.store.publish_queue import ClaimedTarget

logger = logging.getLogger("herald.engine")
STATE = "publishing"


@dataclass(frozen=True)
class TargetJob:
    """A claimed target with what publishing it needs."""

    claim: ClaimedTarget
    connection: ConnectionContext | None
    group: GroupContext | None


@dataclass
class Publisher:
    client: HttpClient
    gates: GateBatcher
    recorder: Recorder
    metrics: EngineMetrics
    secret_box: SecretBox
    sandbox_url: str
    media: MediaPreparer
    comments: CommentPoster | None = None  # first comments, after the post (engine.first_comment)

    async def publish(self, job: TargetJob) -> None:
        claim = job.claim
        if claim.crashes > MAX_CRASHES:  # first: whatever crashed it may lie in anything below
            await self.recorder.parked(claim, STATE)
            return
        try:
            await self._publish(job)
        except Exception as exc:  # a bug, or an answer nothing expected: never a blind re-send
            await self.recorder.crashed(claim, STATE, exc)

    async def _publish(self, job: TargetJob) -> None:
        claim = job.claim
        if claim.expire_at is not None and utc_now() > claim.expire_at:
            error = RejectedError("The post was more than 24 hours late and was not published")
            await self.recorder.failed(claim, STATE, 0, error, "TOO_LATE")
            return
        connector = connector_for(Platform(claim.platform))
        if connector is None or job.connection is None or job.group is None:
            error = RejectedError(f"No connection or connector can publish to {claim.platform}")
            await self.recorder.failed(claim, STATE, 0, error, "CONNECTION_UNAVAILABLE")
            return
        prepared = await self.media.prepare(claim, job.group)
        if isinstance(prepared, Wait):
            await self.recorder.wait(claim, STATE, prepared.until, "Waiting for media uploads")
            return
        if isinstance(prepared, Refuse):
            await self.recorder.failed(
                claim, STATE, 0, RejectedError(prepared.message), prepared.code
            )
            return
        sent_at = await self.gates.submit((claim.id, claim.claim_token))
        if sent_at is None:  # edited, deleted or rescued after the claim: the edit wins
            self.metrics.fenced.inc("gate")
            logger.info("publish.fenced target=%s claim=%d at=gate", claim.id, claim.claim_token)
            return
        self.metrics.start_lateness.observe(lateness(sent_at, claim.due_at))
        await self.send_parts(job, connector, STATE, prepared.items)

    async def send_parts(
        self, job: TargetJob, connector: Connector, state: str, media: list[MediaItem]
    ) -> None:
        """Publish the parts not yet published, saving each part's id before the next, so a
        crash between parts resumes the thread instead of starting it again."""
        claim = job.claim
        progress: dict[str, Any] = {
            "partIds": list(claim.progress.get("partIds", [])),
            "partUrls": list(claim.progress.get("partUrls", [])),
        }
        last = len(claim.thread_parts) - 1
        for part in range(len(progress["partIds"]), last + 1):
            # Media go on the first part (DESIGN §3.11).
            request = self.request(job, part, progress["partIds"], media if part == 0 else [])
            try:
                published = await connector.publish(
                    self.client,
                    request,
                    part_key(claim.idempotency_key, part),
                )
            except PublishError as error:
                await self.record_failure(job, state, part, error)
                return
            # Any other exception (a connector bug, an answer it could not read) reaches
            # publish(): past the gate the call may have gone out, so the target goes in doubt
            # and the crash is counted.
            progress["partIds"].append(published.external_id)
            progress["partUrls"].append(published.url)
            if part == last:
                if await self.recorder.published(claim, state, part, progress):
                    await self.first_comment(job, connector, progress)
            elif not await self.recorder.part_published(
                claim, state, part, published.external_id, progress
            ):
                return  # fenced: the attempt log keeps the evidence for the reconciler

    async def first_comment(
        self, job: TargetJob, connector: Connector, progress: dict[str, Any]
    ) -> None:
        """After the target's success was recorded: its first comment, if one applies."""
        if self.comments is not None and job.group is not None:
            comment = job.group.first_comment
            base = self.request(job, 0, [])
            await self.comments.post(job.claim, comment, connector, base, progress)

    async def record_failure(
        self, job: TargetJob, state: str, part: int, error: PublishError
    ) -> None:
        claim, connection_id = job.claim, job.claim.connection_id
        if isinstance(error, RetryableError):
            await self.recorder.retry_later(claim, state, part, error, connection_id)
        elif isinstance(error, AuthExpiredError):
            await self.recorder.needs_reauth(claim, state, part, error, connection_id)
        elif isinstance(error, RejectedError):
            await self.recorder.failed(claim, state, part, error, error.code)
        else:
            await self.recorder.in_doubt(claim, state, part, error)

    def request(
        self, job: TargetJob, part: int, part_ids: list[str], media: list[MediaItem] | None = None
    ) -> PublishRequest:
        claim = job.claim
        if job.connection is None or job.group is None:  # checked by the callers
            raise ValueError(f"target {claim.id} has no connection or group")
        options = dict(job.connection.options)
        if claim.platform == Platform.SANDBOX.value:
            options.setdefault("baseUrl", self.sandbox_url)
        sealed = job.connection.sealed_credentials
        return PublishRequest(
            target_id=claim.id,
            platform=Platform(claim.platform),
            account_external_id=claim.external_account_id,
            text=claim.thread_parts[part],
            part_index=part,
            part_count=len(claim.thread_parts),
            reply_to_id=part_ids[-1] if part_ids else None,
            root_id=part_ids[0] if part_ids else None,
            media=media or [],
            settings=job.group.platform_settings.get(claim.platform, {}),
            options=options,
            credentials=self.secret_box.open(sealed) if sealed else {},
            scheduled_at=job.group.scheduled_at,
        )
