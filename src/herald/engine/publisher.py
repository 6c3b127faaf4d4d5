"""Publishing one claimed target: gate, then each remaining thread part, then the result."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from herald.domain.platform import Platform
from herald.domain.publishing import MAX_CRASHES, part_key
from herald.domain.timestamps import utc_now
from herald.engine.batching import GateBatcher
from herald.engine.call_limiter import CallLimiter, Permit
from herald.engine.first_comment import CommentPoster
from herald.engine.media_prep import MediaPreparer, Refuse, Wait
from herald.engine.metrics import EngineMetrics
from herald.engine.outcome import Recorder, lateness
from herald.engine.upload_journal import StoredUploadJournal
from herald.net.http_client import HttpClient
from herald.oauth.lifecycle import is_oauth_connection
from herald.oauth.refresher import RefreshError, TokenKeeper, Why
from herald.platforms.base import (
    AuthExpiredError,
    ClaimLostError,
    Connector,
    MediaItem,
    OutcomeUnknownError,
    Published,
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
OPENED_KEPT = 1024  # connections whose opened credentials a publisher keeps at most


@dataclass(frozen=True)
class TargetJob:
    """A claimed target with what publishing it needs."""

    claim: ClaimedTarget
    connection: ConnectionContext | None
    group: GroupContext | None
    host: str = ""  # where its calls go (call_limiter.host_of)


@dataclass
class Publisher:
    client: HttpClient
    gates: GateBatcher
    recorder: Recorder
    metrics: EngineMetrics
    secret_box: SecretBox
    sandbox_url: str
    media: MediaPreparer
    limiter: CallLimiter
    tokens: TokenKeeper | None = None  # renews OAuth tokens; None: sent as stored
    comments: CommentPoster | None = None  # first comments, after the post (engine.first_comment)
    # HERALD_LINKEDIN_VERSION, handed to the LinkedIn connector with each call, so changing the
    # setting moves every connection at once (LinkedIn sunsets a version after about a year).
    linkedin_version: str | None = None
    # Opened credentials by their sealed bytes: opening (Fernet's HMAC and AES) was 7 % of the
    # engine's CPU in a 10,000-post burst, once per post for the same few connections. Keyed by
    # the sealed value, so credentials sealed anew (renewed, re-connected, re-keyed) miss.
    _opened: dict[bytes, Mapping[str, Any]] = field(default_factory=dict, init=False, repr=False)

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
        # Wait for the host before the gate: until the gate the claim is unsent and still safe
        # to edit, release or rescue; a call queued past it would time out in doubt instead.
        permit = await self.limiter.acquire(job.host, claim.connection_id or "")
        try:
            sent_at = await self.gates.submit((claim.id, claim.claim_token))
            if sent_at is None:  # edited, deleted or rescued after the claim: the edit wins
                self.metrics.fenced.inc("gate")
                logger.info(
                    "publish.fenced target=%s claim=%d at=gate", claim.id, claim.claim_token
                )
                return
            self.metrics.start_lateness.observe(lateness(sent_at, claim.due_at))
            await self.send_parts(job, connector, STATE, prepared.items, permit)
        finally:
            permit.release()

    async def send_parts(
        self,
        job: TargetJob,
        connector: Connector,
        state: str,
        media: list[MediaItem],
        permit: Permit,
    ) -> None:
        """Publish the parts not yet published, saving each part's id before the next, so a
        crash between parts resumes the thread instead of starting it again."""
        claim = job.claim
        progress: dict[str, Any] = {
            "partIds": list(claim.progress.get("partIds", [])),
            "partUrls": list(claim.progress.get("partUrls", [])),
        }
        last, first = len(claim.thread_parts) - 1, len(progress["partIds"])
        try:
            credentials = await self.credentials(job)
        except PublishError as error:  # expired, and could not be renewed
            await self.record_failure(job, state, first, error)
            return
        for part in range(first, last + 1):
            # Media go on the first part (DESIGN §3.11).
            request = self.request(
                job, part, progress["partIds"], media if part == 0 else [], credentials
            )
            if part > first:  # the first call's permit was taken before the gate
                permit = await self.limiter.acquire(job.host, claim.connection_id or "")
            try:
                permit.begin()
                published, credentials = await self._send(
                    job, connector, request, part_key(claim.idempotency_key, part)
                )
            except PublishError as error:
                settle(permit, error)  # frees the host's place before the outcome write
                await self.record_failure(job, state, part, error)
                return
            except ClaimLostError:  # the upload stopped at its checkpoint: the claim is not ours
                permit.release()
                self.metrics.fenced.inc("upload")
                logger.info(
                    "publish.fenced target=%s claim=%d at=upload", claim.id, claim.claim_token
                )
                return
            except BaseException:
                permit.release()
                raise
            # An upload's time is not the host's latency for a post.
            permit.answered(measure=not request.media)
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

    async def credentials(self, job: TargetJob) -> Mapping[str, Any]:
        """The connection's credentials, renewed first when an OAuth token's time is up."""
        opened = self._open(job.connection.sealed_credentials if job.connection else None)
        if self._renewable(job) and TokenKeeper.expired(opened):
            opened = await self._renewed(job, opened, "expired")
        return opened

    def _open(self, sealed: bytes | None) -> Mapping[str, Any]:
        if not sealed:
            return {}
        opened = self._opened.get(sealed)
        if opened is None:
            if len(self._opened) >= OPENED_KEPT:
                self._opened.clear()
            opened = self._opened[sealed] = self.secret_box.open(sealed)
        return opened

    async def _send(
        self, job: TargetJob, connector: Connector, request: PublishRequest, key: str
    ) -> tuple[Published, Mapping[str, Any]]:
        """Publish; an OAuth token the platform refuses is renewed (once per connection, however
        many posts were refused) and the part sent once more: a 401 created nothing."""
        try:
            return await connector.publish(self.client, request, key), request.credentials
        except AuthExpiredError:
            if not self._renewable(job):
                raise
            fresh = await self._renewed(job, request.credentials, "refused")
            if fresh.get("accessToken") == request.credentials.get("accessToken"):
                raise  # not renewed (the connection awaits its owner): the refusal stands
        renewed = replace(request, credentials=fresh)
        return await connector.publish(self.client, renewed, key), fresh

    async def look_up(
        self, job: TargetJob, connector: Connector, request: PublishRequest, key: str
    ) -> Published | None:
        """The connector's lookup, with a refused OAuth token renewed once like a send."""
        try:
            return await connector.lookup(self.client, request, key)
        except AuthExpiredError:
            if not self._renewable(job):
                raise
            fresh = await self._renewed(job, request.credentials, "refused")
            if fresh.get("accessToken") == request.credentials.get("accessToken"):
                raise
        return await connector.lookup(self.client, replace(request, credentials=fresh), key)

    def _renewable(self, job: TargetJob) -> bool:
        return (
            self.tokens is not None
            and job.connection is not None
            and is_oauth_connection(job.claim.platform)
        )

    async def _renewed(
        self, job: TargetJob, stale: Mapping[str, Any], why: Why
    ) -> Mapping[str, Any]:
        if self.tokens is None or job.connection is None:  # checked by _renewable
            raise AuthExpiredError("The access token has expired")
        try:
            return await self.tokens.fresh(job.connection.id, stale, why)
        except RefreshError as exc:
            if exc.reauth:
                raise AuthExpiredError(exc.message) from None
            raise RetryableError(exc.message) from None

    async def first_comment(
        self, job: TargetJob, connector: Connector, progress: dict[str, Any]
    ) -> None:
        """After the target's success was recorded: its first comment, if one applies."""
        # No comment stored: nothing to build (a request opens the credentials).
        if self.comments is not None and job.group is not None and job.group.first_comment:
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
        self,
        job: TargetJob,
        part: int,
        part_ids: list[str],
        media: list[MediaItem] | None = None,
        credentials: Mapping[str, Any] | None = None,
    ) -> PublishRequest:
        claim = job.claim
        if job.connection is None or job.group is None:  # checked by the callers
            raise ValueError(f"target {claim.id} has no connection or group")
        options = dict(job.connection.options)
        if claim.platform == Platform.SANDBOX.value:
            options.setdefault("baseUrl", self.sandbox_url)
        if claim.platform == Platform.LINKEDIN.value and self.linkedin_version:
            options["linkedinVersion"] = self.linkedin_version
        if credentials is None:
            credentials = self._open(job.connection.sealed_credentials)
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
            credentials=credentials,
            scheduled_at=job.group.scheduled_at,
            uploads=StoredUploadJournal(
                self.recorder.writer,
                self.secret_box,
                claim.id,
                part_key(claim.idempotency_key, part),
                claim.claim_token,
            ),
            artwork=self.media.artwork(job.group),
        )


def settle(permit: Permit, error: PublishError) -> None:
    """Tell the host's limit how a failed call ended: a timeout, a 5xx, a 429 or a refused
    connection (retryable, or in doubt) says the host is overloaded; a refusal of the post or
    of the credentials is an ordinary answer; a call the egress policy stopped never left."""
    if isinstance(error, RetryableError | OutcomeUnknownError):
        permit.failed()
    elif isinstance(error, RejectedError) and error.code == "EGRESS_DENIED":
        permit.release()
    else:
        permit.answered()
