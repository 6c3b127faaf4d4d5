"""The engine's loops: dispatch due targets, heartbeat leases, rescue, expire and reconcile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db.engine import unit_of_work
from herald.domain.timestamps import utc_now
from herald.engine.batching import GateBatcher, GroupStatusBatcher, SuccessBatcher, WriteBatcher
from herald.engine.call_limiter import CallLimiter, host_of
from herald.engine.fair_share import Holder, Holdings
from herald.engine.first_comment import CommentPoster
from herald.engine.media_prep import MediaPreparer
from herald.engine.metrics import EngineMetrics
from herald.engine.outcome import Recorder, lateness
from herald.engine.publisher import Publisher, TargetJob
from herald.engine.reconciler import Reconciler
from herald.engine.webhooks import WebhookDeliverer
from herald.media.base import MediaStore
from herald.media.factory import create_media_store
from herald.net.egress import EgressPolicy
from herald.net.http_client import HttpClient
from herald.oauth.refresher import TokenKeeper
from herald.oauth.warnings import sweep_states, warn_expiring
from herald.services import idempotency
from herald.services.secret_box import SecretBox
from herald.store.claim_limits import ClaimLimits
from herald.store.publish_context import PublishContextStore
from herald.store.publish_queue import ClaimedTarget, PublishQueueStore
from herald.store.publish_result import PublishResultStore

logger = logging.getLogger("herald.engine")
MAX_SLEEP = 1.0  # the dispatcher looks again at least this often: the lateness bound
TOO_LATE = "The post was more than 24 hours late and was not published"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Engine:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        secret_box: SecretBox,
        *,
        media_store: MediaStore | None = None,
        metrics: EngineMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.worker = worker_id()
        self.metrics = metrics or EngineMetrics()
        self.last_tick = time.monotonic()
        self._lease = timedelta(seconds=settings.engine_lease_seconds)
        self._wake = asyncio.Event()
        self._stopping = False
        self._inflight: dict[str, tuple[int, asyncio.Task[None]]] = {}
        self._holdings = Holdings(settings.engine_concurrency)
        self._limiter = CallLimiter(settings.engine_host_initial_limit, settings.engine_concurrency)
        self.metrics.hosts = self._limiter.snapshot
        self._loops: list[asyncio.Task[None]] = []
        self._client = HttpClient(
            settings.engine_concurrency,
            settings.engine_http_timeout_seconds,
            egress=EgressPolicy.from_settings(settings),
        )
        self._writer = WriteBatcher(sessions)
        self._gates = GateBatcher(sessions)
        self._successes = SuccessBatcher(sessions)
        self._groups = GroupStatusBatcher(sessions)
        recorder = Recorder(
            self._writer,
            self._successes,
            self._groups,
            self.metrics,
            random.Random(),  # noqa: S311
        )
        self.media_store = media_store or create_media_store(settings)
        self._media = MediaPreparer(
            self.media_store,
            self._writer,
            timedelta(seconds=settings.media_wait_seconds),
            settings.media_max_upload_bytes,
        )
        self.tokens = TokenKeeper(
            sessions, secret_box, settings, self._client, self.metrics.token_renewals.inc
        )
        self._publisher = Publisher(
            self._client,
            self._gates,
            recorder,
            self.metrics,
            secret_box,
            settings.resolved_sandbox_url,
            self._media,
            self._limiter,
            self.tokens,
            CommentPoster(self._client, self._writer),
            linkedin_version=settings.linkedin_version,
        )
        self._webhooks = WebhookDeliverer(settings, sessions, secret_box)
        self._reconciler = Reconciler(
            self._publisher, recorder, self._writer, settings.engine_unsafe_blind_retry
        )

    def wake(self) -> None:
        """Re-plan now: an API write may have made something due sooner."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    async def start(self) -> None:
        self._writer.start()
        self._successes.start()
        self._gates.start()
        self._groups.start()
        self._loops = [
            asyncio.create_task(self._dispatch_loop(), name="engine.dispatch"),
            asyncio.create_task(
                self._every(self._lease.total_seconds() / 3, self._heartbeat),
                name="engine.heartbeat",
            ),
            asyncio.create_task(
                self._every(self.settings.engine_rescue_interval_seconds, self._maintain),
                name="engine.rescue",
            ),
            asyncio.create_task(
                self._every(self.settings.engine_reconcile_interval_seconds, self._reconcile),
                name="engine.reconcile",
            ),
            asyncio.create_task(
                self._every(self.settings.webhook_poll_seconds, self._webhooks.deliver),
                name="engine.webhooks",
            ),
            asyncio.create_task(
                self._every(self.settings.oauth_refresh_interval_seconds, self._keep_tokens),
                name="engine.tokens",
            ),
        ]
        logger.info(
            "engine.started worker=%s concurrency=%d loop=%s",
            self.worker,
            self.settings.engine_concurrency,
            type(asyncio.get_running_loop()).__module__.split(".")[0],
        )

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; let in-flight calls finish for `grace` seconds; release the rest."""
        if self._stopping:
            return
        self._stopping = True
        self._wake.set()
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        tasks = [task for _, task in self._inflight.values()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._writer.stop()
        await self._successes.stop()
        await self._gates.stop()
        await self._groups.stop()
        async with unit_of_work(self.sessions) as session:
            released = await PublishQueueStore(session).release(self.worker, utc_now())
        await self._client.aclose()
        await self._webhooks.aclose()
        logger.info("engine.stopped worker=%s released=%d", self.worker, released)

    async def _every(self, seconds: float, work: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping:
            try:
                await work()
            except Exception as exc:  # a failed round is retried next time; never kill the loop
                logger.warning(
                    "engine.loop.failed work=%s error=%s", work.__name__, type(exc).__name__
                )
            await asyncio.sleep(seconds)

    async def _dispatch_loop(self) -> None:
        while not self._stopping:
            self.last_tick = time.monotonic()
            self._wake.clear()
            try:
                delay = await self._dispatch_once()
            except Exception as exc:
                logger.warning("engine.dispatch.failed error=%s", type(exc).__name__)
                delay = MAX_SLEEP
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _dispatch_once(self) -> float:
        """Claim what is due into the free slots; return how long to sleep before looking again."""
        free = self.settings.engine_concurrency - len(self._inflight)
        if free <= 0:
            return MAX_SLEEP  # a finishing target wakes us
        wanted = min(free, self.settings.engine_claim_batch)
        jobs = await self._claim(wanted)
        for job in jobs:
            self._spawn(job, self._publisher.publish)
        if len(jobs) == wanted:
            return 0.0
        async with unit_of_work(self.sessions, write=False) as session:
            next_due = await PublishQueueStore(session).next_due()
        if next_due is None:
            return MAX_SLEEP
        until_due = (next_due - utc_now()).total_seconds()
        # Due but not claimed: its connection is gated or another worker holds it.
        return 0.25 if until_due <= 0 and not jobs else max(0.0, min(MAX_SLEEP, until_due))

    async def _claim(self, wanted: int) -> list[TargetJob]:
        now = utc_now()
        async with unit_of_work(self.sessions) as session:
            claims = await PublishQueueStore(session).claim(
                self.worker, now, wanted, self._lease, self._claim_limits()
            )
            jobs = await self._jobs(session, claims)
        for claim in claims:
            self.metrics.claim_lateness.observe(lateness(now, claim.due_at))
        return jobs

    async def _jobs(
        self, session: AsyncSession, claims: Sequence[ClaimedTarget]
    ) -> list[TargetJob]:
        if not claims:
            return []
        contexts = PublishContextStore(session)
        connections = await contexts.connections(c.connection_id for c in claims if c.connection_id)
        groups = await contexts.groups(c.post_group_id for c in claims)
        jobs = []
        for claim in claims:
            connection = connections.get(claim.connection_id) if claim.connection_id else None
            options = connection.options if connection else {}
            host = host_of(claim.platform, options, self.settings.resolved_sandbox_url)
            jobs.append(TargetJob(claim, connection, groups.get(claim.post_group_id), host))
        return jobs

    def _claim_limits(self) -> ClaimLimits:
        return self._holdings.limits(self._limiter.saturated)

    def _spawn(self, job: TargetJob, run: Callable[[TargetJob], Awaitable[None]]) -> None:
        claim = job.claim
        task = asyncio.create_task(self._guarded(run, job), name=f"engine.target.{claim.id}")
        self._inflight[claim.id] = (claim.claim_token, task)
        account = job.connection.account_id if job.connection else ""
        self._holdings.add(claim.id, Holder(account, claim.connection_id or "", job.host))

        def done(_task: asyncio.Task[None]) -> None:
            self._inflight.pop(claim.id, None)
            self._holdings.remove(claim.id)
            self._wake.set()  # a slot is free

        task.add_done_callback(done)

    async def _guarded(self, run: Callable[[TargetJob], Awaitable[None]], job: TargetJob) -> None:
        try:
            await run(job)
        except Exception as exc:
            # Even recording the crash failed (the database is gone?): its lease expires, the
            # rescuer releases it the same way, and the claim stays counted as a crash.
            logger.error(
                "engine.target.unrecorded target=%s claim=%d error=%s",
                job.claim.id,
                job.claim.claim_token,
                type(exc).__name__,
            )

    async def _heartbeat(self) -> None:
        claims = [(target_id, token) for target_id, (token, _) in self._inflight.items()]
        async with unit_of_work(self.sessions) as session:
            await PublishQueueStore(session).heartbeat(claims, utc_now() + self._lease)

    async def _maintain(self) -> None:
        now = utc_now()
        async with unit_of_work(self.sessions) as session:
            queue = PublishQueueStore(session)
            rescued = await queue.rescue_expired_leases(now)
            groups = await queue.fail_expired(now, TOO_LATE)
            await PublishResultStore(session).refresh_group_statuses(groups)
        if rescued or groups:
            logger.info("engine.rescued leases=%d expired_groups=%d", rescued, len(groups))
            self._wake.set()
        if left := await self._groups.refresh_left_over(now):
            logger.info("engine.group_statuses.left_over groups=%d", left)
        await self._media.sweep(self.sessions, now)
        async with unit_of_work(self.sessions) as session:
            await idempotency.prune(session, now)

    async def _keep_tokens(self) -> None:
        """Renew OAuth tokens ahead of expiry, warn about those that cannot be renewed, and
        forget connections started but never finished."""
        await self.tokens.renew_due()
        now = utc_now()
        await warn_expiring(self.sessions, now)
        await sweep_states(self.sessions, now)

    async def _reconcile(self) -> None:
        free = self.settings.engine_concurrency - len(self._inflight)
        if free <= 0:
            return
        now = utc_now()
        settled = now - timedelta(seconds=self.settings.engine_settle_seconds)
        async with unit_of_work(self.sessions) as session:
            claims = await PublishQueueStore(session).claim_in_doubt(
                self.worker,
                now,
                settled,
                min(free, self.settings.engine_claim_batch),
                self._lease,
                self._claim_limits(),
            )
            jobs = await self._jobs(session, claims)
        for job in jobs:
            self._spawn(job, self._reconciler.reconcile)
