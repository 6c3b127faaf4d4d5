"""Resolving in-doubt targets: was the post created? Never guess by sending blindly.

In order (engine-research §7.4): evidence a fenced worker logged; a re-send with the same
idempotency key while the platform still honours it; a lookup on the platform; otherwise the
target fails visibly as `outcome_unknown` for the user to check. A target whose claims crashed
more than MAX_CRASHES times is parked as `outcome_unknown` with ENGINE_ERROR without trying.

A lookup that fails leaves the target in doubt with its next lookup pushed back (exponential,
jittered, counted in the row so a restart keeps it); a rate limit holds the whole connection
until the platform's reset. Failures never settle a target by themselves, and never stop it
settling: after GIVE_UP_AFTER the next failure makes it `outcome_unknown`."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.platform import Platform
from herald.domain.publishing import MAX_CRASHES, lookup_backoff, part_key
from herald.domain.timestamps import utc_now
from herald.engine.batching import WriteBatcher
from herald.engine.outcome import RATE_LIMIT_WAIT, Recorder
from herald.engine.publisher import Publisher, TargetJob, settle
from herald.platforms.base import (
    Connector,
    OutcomeUnknownError,
    Published,
    PublishError,
    RetryableError,
)
from herald.platforms.registry import connector_for
from herald.store.publish_queue import ClaimedTarget, PublishQueueStore
from herald.store.publish_result import PublishResultStore

logger = logging.getLogger("herald.engine")
STATE = "reconciling"
# Stop re-sending on a key this long before the platform forgets it (Mastodon: 1 h -> 45 min).
KEY_SAFETY_MARGIN = timedelta(minutes=15)
# After this long in doubt with failing lookups, ask the user instead.
GIVE_UP_AFTER = timedelta(hours=24)
UNKNOWN = OutcomeUnknownError(
    "Herald could not confirm whether this post was published: check the account before retrying"
)


@dataclass
class Reconciler:
    publisher: Publisher
    recorder: Recorder
    writer: WriteBatcher
    unsafe_blind_retry: bool = False

    async def reconcile(self, job: TargetJob) -> None:
        claim = job.claim
        if claim.crashes > MAX_CRASHES:  # first, before anything that may be what crashed
            await self.recorder.parked(claim, STATE)
            return
        try:
            await self._reconcile(job)
        except Exception as exc:  # a bug, or an answer nothing expected: still in doubt
            await self.recorder.crashed(claim, STATE, exc)

    async def _reconcile(self, job: TargetJob) -> None:
        claim = job.claim
        part = len(claim.progress.get("partIds", []))
        connector = connector_for(Platform(claim.platform))
        if connector is None or job.connection is None or job.group is None:
            await self.recorder.failed(
                claim, STATE, part, UNKNOWN, "PUBLISH_OUTCOME_UNKNOWN", outcome_unknown=True
            )
            return
        evidence = await self._late_success(job, part)
        if evidence is not None:
            await self._found(job, connector, part, evidence)
        elif self.unsafe_blind_retry:
            # The negative control of bench/chaos.py: a fresh key lets the platform post twice.
            await self.recorder.resend(claim, STATE, part, idempotency_key=str(uuid.uuid4()))
        elif self._key_still_honoured(job, connector):
            await self.recorder.resend(claim, STATE, part)
        elif connector.capabilities.supports_lookup:
            await self._look_up(job, connector, part)
        else:
            await self.recorder.failed(
                claim, STATE, part, UNKNOWN, "PUBLISH_OUTCOME_UNKNOWN", outcome_unknown=True
            )

    async def _late_success(self, job: TargetJob, part: int) -> Published | None:
        claim = job.claim

        async def read(session: AsyncSession) -> Published | None:
            attempt = await PublishResultStore(session).late_success(claim.id, claim.version, part)
            if attempt is None or attempt.external_id is None:
                return None
            return Published(attempt.external_id)

        found: Published | None = await self.writer.run(read)
        return found

    def _key_still_honoured(self, job: TargetJob, connector: Connector) -> bool:
        ttl, first_sent = connector.capabilities.idempotency_ttl, job.claim.first_sent_at
        if ttl is None or first_sent is None:
            return False
        return utc_now() - first_sent < ttl - KEY_SAFETY_MARGIN

    async def _look_up(self, job: TargetJob, connector: Connector, part: int) -> None:
        claim = job.claim
        request = self.publisher.request(job, part, list(claim.progress.get("partIds", [])))

        async def start(session: AsyncSession) -> bool:
            return await PublishQueueStore(session).start_lookup(
                claim.id, claim.claim_token, utc_now()
            )

        # A lookup waits for its host like a post does: a lookup timed out is one more doubt.
        permit = await self.publisher.limiter.acquire(job.host, claim.connection_id or "")
        try:
            if not await self.writer.run(start):  # the claim was lost: whoever holds it decides
                permit.release()
                self.recorder.metrics.fenced.inc("lookup")
                logger.info(
                    "publish.fenced target=%s claim=%d at=lookup", claim.id, claim.claim_token
                )
                return
            credentials = await self.publisher.credentials(job)  # renewed if expired
            permit.begin()
            found = await self.publisher.look_up(
                job,
                connector,
                replace(request, credentials=credentials),
                part_key(claim.idempotency_key, part),
            )
        except PublishError as error:
            settle(permit, error)
            logger.info("publish.lookup target=%s part=%d found=error", claim.id, part)
            first_sent = claim.first_sent_at or claim.due_at
            if utc_now() - first_sent > GIVE_UP_AFTER:
                await self.recorder.failed(
                    claim, STATE, part, UNKNOWN, "PUBLISH_OUTCOME_UNKNOWN", outcome_unknown=True
                )
            else:
                look_again, limited_until = self._next_lookup(claim, error)
                await self.recorder.lookup_failed(
                    claim, STATE, part, error, look_again, limited_until
                )
            return
        except BaseException:
            permit.release()
            raise
        permit.answered()
        # One line per lookup, so an operator (and bench/chaos.py) can count what settled doubt.
        verdict = "no" if found is None else "yes"
        logger.info("publish.lookup target=%s part=%d found=%s", claim.id, part, verdict)
        if found is None:
            await self.recorder.resend(claim, STATE, part)  # definitely not there: send it
        else:
            await self._found(job, connector, part, found)

    def _next_lookup(
        self, claim: ClaimedTarget, error: PublishError
    ) -> tuple[datetime, datetime | None]:
        """When to look this target up again, and until when its connection is rate limited.

        A rate limit is waited out as the platform says (RATE_LIMIT_WAIT when it says nothing),
        plus up to a second so the connection's targets do not all come back at the reset.
        Any other failure waits lookup_backoff of the failures so far, or longer if the
        platform asked for it (Retry-After)."""
        now, rng = utc_now(), self.recorder.rng
        retry_after = error.retry_after if isinstance(error, RetryableError) else None
        wait = None if retry_after is None else timedelta(seconds=retry_after)
        if isinstance(error, RetryableError) and error.rate_limited:
            until = now + (wait or RATE_LIMIT_WAIT)
            return until + timedelta(seconds=rng.uniform(0, 1)), until
        backoff = lookup_backoff(claim.lookup_failures + 1, rng)
        return now + max(backoff, wait or backoff), None

    async def _found(
        self, job: TargetJob, connector: Connector, part: int, found: Published
    ) -> None:
        claim = job.claim
        progress: dict[str, Any] = {
            "partIds": [*claim.progress.get("partIds", []), found.external_id],
            "partUrls": [*claim.progress.get("partUrls", []), found.url],
        }
        if part == len(claim.thread_parts) - 1:
            if await self.recorder.published(claim, STATE, part, progress):
                await self.publisher.first_comment(job, connector, progress)
        else:
            await self.recorder.resend(claim, STATE, part, progress=progress)
