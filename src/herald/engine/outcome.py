"""Recording what happened to a target: fenced result writes plus the attempt log."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.publishing import MAX_ATTEMPTS, MAX_CRASHES, backoff_delay, bounded_delay
from herald.domain.timestamps import utc_now
from herald.engine.batching import GroupStatusBatcher, SuccessBatcher, WriteBatcher
from herald.engine.metrics import EngineMetrics
from herald.models import PublishAttempt
from herald.platforms.base import OutcomeUnknownError, PublishError, RejectedError, RetryableError
from herald.store import group_status_due
from herald.store.publish_queue import ClaimedTarget, PublishQueueStore
from herald.store.publish_result import PublishResultStore, Success

logger = logging.getLogger("herald.engine")
NEVER = timedelta(days=36500)  # a needs-reauth gate lasts until the connection is replaced
RATE_LIMIT_WAIT = timedelta(seconds=60)  # a 429 that says nothing usable about when to retry
_STOPPED = f"Herald's publishing engine failed on this post {MAX_CRASHES} times and stopped trying"
PARKED_UNSENT = RejectedError(f"{_STOPPED}; it was not sent")
PARKED_UNKNOWN = OutcomeUnknownError(
    f"{_STOPPED}, and could not confirm whether it was published: check the account before retrying"
)


@dataclass
class Recorder:
    """Writes one claim's results; `from_state` is the state the claim put the row in."""

    writer: WriteBatcher
    successes: SuccessBatcher
    groups: GroupStatusBatcher
    metrics: EngineMetrics
    rng: random.Random

    async def _write(
        self,
        claim: ClaimedTarget,
        outcome: str,
        part: int,
        change: Any,
        *,
        error: PublishError | None = None,
        external_id: str | None = None,
        refresh_group: bool = False,
    ) -> bool:
        """Apply the fenced change and log the attempt in one transaction; True if applied."""

        async def write(session: AsyncSession) -> bool:
            store = PublishResultStore(session)
            applied = bool(await change(store))
            if applied and refresh_group:
                await group_status_due.note(session, [claim.post_group_id], utc_now())
            logged = outcome if applied or outcome != "published" else "late_success"
            await store.log_attempt(
                PublishAttempt(
                    target_id=claim.id,
                    claim_token=claim.claim_token,
                    version=claim.version,
                    part=part,
                    outcome=logged,
                    http_status=error.http_status if error else None,
                    external_id=external_id,
                    error=error.message if error else None,
                )
            )
            return applied

        applied: bool = await self.writer.run(write)
        await self._written(claim, outcome, part, applied, error, refresh_group=refresh_group)
        return applied

    async def _written(
        self,
        claim: ClaimedTarget,
        outcome: str,
        part: int,
        applied: bool,
        error: PublishError | None,
        *,
        refresh_group: bool,
    ) -> None:
        if applied and refresh_group:
            await self.groups.submit(claim.post_group_id)
        self.metrics.outcomes.inc(outcome)
        if not applied:
            self.metrics.fenced.inc("result")
        logger.info(
            "publish.attempt target=%s part=%d outcome=%s applied=%s status=%s",
            claim.id,
            part,
            outcome,
            applied,
            error.http_status if error else None,
        )

    async def part_published(
        self,
        claim: ClaimedTarget,
        state: str,
        part: int,
        external_id: str,
        progress: dict[str, Any],
    ) -> bool:
        return await self._write(
            claim,
            "part_published",
            part,
            lambda s: s.save_progress(claim.id, claim.claim_token, state, progress),
            external_id=external_id,
        )

    async def published(
        self, claim: ClaimedTarget, state: str, part: int, progress: dict[str, Any]
    ) -> bool:
        now = utc_now()
        success = Success(
            target_id=claim.id,
            token=claim.claim_token,
            from_state=state,
            version=claim.version,
            part=part,
            external_id=progress["partIds"][0],
            url=progress["partUrls"][0],
            part_external_id=progress["partIds"][part],
            progress=progress,
            now=now,
        )
        applied = await self.successes.submit(success)
        await self._written(claim, "published", part, applied, None, refresh_group=True)
        if applied:
            self.metrics.publish_lateness.observe((now - claim.due_at).total_seconds())
        return applied

    async def failed(
        self,
        claim: ClaimedTarget,
        state: str,
        part: int,
        error: PublishError,
        code: str,
        *,
        outcome_unknown: bool = False,
    ) -> bool:
        return await self._write(
            claim,
            "outcome_unknown" if outcome_unknown else "failed",
            part,
            lambda s: s.fail(
                claim.id,
                claim.claim_token,
                state,
                message=error.message,
                code=code,
                now=utc_now(),
                outcome_unknown=outcome_unknown,
            ),
            error=error,
            refresh_group=True,
        )

    async def in_doubt(
        self, claim: ClaimedTarget, state: str, part: int, error: PublishError
    ) -> bool:
        return await self._write(
            claim,
            "in_doubt",
            part,
            lambda s: s.mark_in_doubt(claim.id, claim.claim_token, state, utc_now()),
            error=error,
        )

    async def lookup_failed(
        self,
        claim: ClaimedTarget,
        state: str,
        part: int,
        error: PublishError,
        look_again: datetime,
        rate_limited_until: datetime | None,
    ) -> bool:
        """A failed lookup: in doubt again, not looked up before `look_again`. A rate limit
        also gates the connection, so its other targets' lookups and sends wait for the reset
        too, in every worker."""
        connection_id = claim.connection_id

        async def back_in_doubt(store: PublishResultStore) -> bool:
            if rate_limited_until is not None and connection_id is not None:
                await store.gate_connection(connection_id, rate_limited_until, "rate_limited")
            return await store.lookup_failed(
                claim.id, claim.claim_token, state, utc_now(), look_again
            )

        return await self._write(claim, "in_doubt", part, back_in_doubt, error=error)

    async def retry_later(
        self,
        claim: ClaimedTarget,
        state: str,
        part: int,
        error: RetryableError,
        connection_id: str | None,
    ) -> bool:
        """A definite "not created": wait and send again. A 429 gates the whole connection and
        costs no attempt; other failures back off with full jitter until the budget runs out."""
        now = utc_now()
        # Bounded again here: a connector may have set the attribute after construction.
        retry_after = bounded_delay(error.retry_after)
        if error.rate_limited:
            wait = RATE_LIMIT_WAIT if retry_after is None else timedelta(seconds=retry_after)
            until = now + wait
            due = until + timedelta(seconds=self.rng.uniform(0, 1))  # no stampede at the reset

            async def gate_and_wait(store: PublishResultStore) -> bool:
                if connection_id is not None:
                    await store.gate_connection(connection_id, until, "rate_limited")
                return await store.reschedule(
                    claim.id,
                    claim.claim_token,
                    state,
                    due_at=due,
                    error=error.message,
                    count_attempt=False,
                    count_rate_limit=True,
                )

            return await self._write(claim, "rate_limited", part, gate_and_wait, error=error)
        delay = backoff_delay(claim.attempt, self.rng)
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        due = now + delay
        if claim.attempt + 1 >= MAX_ATTEMPTS or (claim.expire_at and due > claim.expire_at):
            return await self.failed(claim, state, part, error, "PUBLISH_RETRIES_EXHAUSTED")
        return await self._write(
            claim,
            "retry",
            part,
            lambda s: s.reschedule(
                claim.id,
                claim.claim_token,
                state,
                due_at=due,
                error=error.message,
                count_attempt=True,
            ),
            error=error,
        )

    async def needs_reauth(
        self,
        claim: ClaimedTarget,
        state: str,
        part: int,
        error: PublishError,
        connection_id: str | None,
    ) -> bool:
        until = utc_now() + NEVER

        async def fail_and_gate(store: PublishResultStore) -> bool:
            if connection_id is not None:
                await store.gate_connection(connection_id, until, "needs_reauth")
                await store.mark_needs_reauth(connection_id)
            return await store.fail(
                claim.id,
                claim.claim_token,
                state,
                message=error.message,
                code="NEEDS_REAUTH",
                now=utc_now(),
            )

        return await self._write(
            claim, "needs_reauth", part, fail_and_gate, error=error, refresh_group=True
        )

    async def crashed(self, claim: ClaimedTarget, state: str, exc: Exception) -> None:
        """The engine raised while holding this claim. Release it now, as the rescuer would once
        its lease ran out: in doubt if it passed the send gate (never re-sent blindly), else
        waiting again; its crash stays counted. The log has ids and the exception type only:
        an exception's text may quote a platform's answer or a credential."""
        name, part = type(exc).__name__, len(claim.progress.get("partIds", []))
        logger.error(
            "engine.target.crashed target=%s claim=%d state=%s crashes=%d error=%s",
            claim.id,
            claim.claim_token,
            state,
            claim.crashes,
            name,
        )

        async def release(session: AsyncSession) -> str | None:
            released = await PublishQueueStore(session).release_crashed(
                claim.id, claim.claim_token, utc_now()
            )
            if released is not None:
                attempt = PublishAttempt(
                    target_id=claim.id,
                    claim_token=claim.claim_token,
                    version=claim.version,
                    part=part,
                    outcome="engine_error",
                    error=f"Herald's publishing engine failed ({name})",
                )
                await PublishResultStore(session).log_attempt(attempt)
            return released

        released: str | None = await self.writer.run(release)
        self.metrics.outcomes.inc("engine_error")
        if released is None:
            self.metrics.fenced.inc("release")
        logger.info(
            "publish.attempt target=%s part=%d outcome=engine_error released=%s",
            claim.id,
            part,
            released,
        )

    async def parked(self, claim: ClaimedTarget, state: str) -> bool:
        """More than MAX_CRASHES claims of this target crashed: stop, visibly, as ENGINE_ERROR.
        Never sent: failed. Maybe sent: only the reconciler may settle it, and it parks it as
        outcome unknown (the owner checks the account), so a sent one goes in doubt first."""
        part = len(claim.progress.get("partIds", []))
        if state == "publishing" and claim.first_sent_at is not None:
            return await self.in_doubt(claim, state, part, PARKED_UNKNOWN)
        unsent = state == "publishing"
        error = PARKED_UNSENT if unsent else PARKED_UNKNOWN
        return await self.failed(
            claim, state, part, error, "ENGINE_ERROR", outcome_unknown=not unsent
        )

    async def wait(self, claim: ClaimedTarget, state: str, until: datetime, reason: str) -> bool:
        """Not sent and not failed: look again at `until` (e.g. uploads still arriving)."""
        return await self._write(
            claim,
            "wait",
            0,
            lambda s: s.reschedule(
                claim.id, claim.claim_token, state, due_at=until, error=reason, count_attempt=False
            ),
        )

    async def resend(
        self,
        claim: ClaimedTarget,
        state: str,
        part: int,
        *,
        progress: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> bool:
        """Back to waiting, due now: a re-send is safe (same key, or the part was not found),
        or the thread continues after a part the reconciler found."""
        return await self._write(
            claim,
            "resend",
            part,
            lambda s: s.reschedule(
                claim.id,
                claim.claim_token,
                state,
                due_at=utc_now(),
                error=None,
                count_attempt=False,
                progress=progress,
                idempotency_key=idempotency_key,
            ),
        )


def lateness(moment: datetime, due: datetime) -> float:
    return (moment - due).total_seconds()
