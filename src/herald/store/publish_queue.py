"""The engine's queue statements: claim, send gate, heartbeat, rescue, expiry (engine-research §7).

The target row is the job. Every write after a claim is fenced by `claim_token`: an edit, a rescue
or a newer claim bumps the token, so a stale worker's write matches no row."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db.engine import execute_plain
from herald.domain.publishing import crash_backoff
from herald.models import ConnectionGate, PublishTarget
from herald.store.claim_limits import ClaimLimits, fair_candidates, skipped
from herald.store.webhook_events import targets_finished

T = PublishTarget
_target: Table = PublishTarget.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class ClaimedTarget:
    id: str
    post_group_id: str
    connection_id: str | None
    platform: str
    external_account_id: str
    version: int
    claim_token: int
    idempotency_key: str
    progress: dict[str, Any]
    thread_parts: list[str]
    due_at: datetime
    expire_at: datetime | None
    attempt: int
    first_sent_at: datetime | None
    crashes: int  # counting this claim, until it is known not to be a crash
    lookup_failures: int = 0  # the reconciler's failed lookups of this doubt so far


_CLAIM_COLUMNS = (
    T.id,
    T.post_group_id,
    T.connection_id,
    T.platform,
    T.external_account_id,
    T.version,
    T.claim_token,
    T.idempotency_key,
    T.progress,
    T.thread_parts,
    T.due_at,
    T.expire_at,
    T.attempt,
    T.first_sent_at,
    T.crashes,
    T.lookup_failures,
)


def _claimed(row: Any) -> ClaimedTarget:
    return ClaimedTarget(*row)


def _unlocked(*conditions: Any) -> Any:
    """`id IN (rows matching, skipping rows another transaction holds)`.

    Maintenance writes (heartbeat, rescue, expiry, release) touch many rows in no set order while
    a worker's group commit holds some of them: waiting could deadlock, so they skip what is
    locked and catch it next round. SQLite has no row locks; there this is a plain subquery."""
    return T.id.in_(select(T.id).where(*conditions).with_for_update(skip_locked=True))


# A claim given up (crash or shutdown): never sent means safe to claim again; sent means in doubt.
# Either way the token bump fences the old holder if it is merely slow.
_RELEASED_UNSENT = {
    "state": "scheduled",
    "claim_token": T.claim_token + 1,
    "lease_owner": None,
    "lease_until": None,
}
# Every claim counts as a crash until it is known not to be one, so a process killed mid-call
# counts with nothing written at the time. SETTLED takes it back: the claim's outcome write
# (publish_result), a release on shutdown, a rescue before any call began. Never below 0, for
# rows staged by hand.
_CRASH_COUNTED = {"crashes": T.crashes + 1}
# The states of a target a worker holds: sending it, or settling its doubt (a re-send included).
CLAIMED_STATES = ("publishing", "reconciling")
SETTLED = {"crashes": case((T.crashes > 0, T.crashes - 1), else_=0)}


def _released_sent(now: datetime) -> dict[str, Any]:
    return {
        "state": "in_doubt",
        "in_doubt_since": func.coalesce(T.in_doubt_since, now),
        "claim_token": T.claim_token + 1,
        "lease_owner": None,
        "lease_until": None,
    }


def _sent_or_reconciling() -> Any:
    """Claims past the send gate: the platform may have the post."""
    return (T.state == "reconciling") | and_(T.state == "publishing", T.sent_at.is_not(None))


def _not_gated(now: datetime) -> Any:
    return ~exists().where(
        ConnectionGate.connection_id == T.connection_id, ConnectionGate.blocked_until > now
    )


def _not_rate_limited(now: datetime) -> Any:
    """Lookups heed a platform's rate limit like sends, but not a needs-reauth gate: that one
    lasts until the connection is replaced, and a doubt must still settle (outcome unknown)."""
    return ~exists().where(
        ConnectionGate.connection_id == T.connection_id,
        ConnectionGate.blocked_until > now,
        ConnectionGate.reason == "rate_limited",
    )


class PublishQueueStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"

    async def state_counts(self) -> dict[str, int]:
        rows = await self._session.execute(select(T.state, func.count()).group_by(T.state))
        return {state: int(count) for state, count in rows}

    async def overdue_count(self, now: datetime) -> int:
        query = select(func.count()).where(T.state == "scheduled", T.due_at < now)
        return int(await self._session.scalar(query) or 0)

    async def next_due(self) -> datetime | None:
        """One probe of the partial due index: when the earliest waiting target is due."""
        query = select(func.min(T.due_at)).where(T.state == "scheduled")
        return await self._session.scalar(query)

    async def claim(
        self,
        worker: str,
        now: datetime,
        batch: int,
        lease: timedelta,
        limits: ClaimLimits | None = None,
    ) -> Sequence[ClaimedTarget]:
        """Due targets, earliest first, on connections that are not gated, within `limits`
        (the worker's fair shares: store/claim_limits.py)."""
        due_now = [T.state == "scheduled", T.due_at <= now, _not_gated(now)]
        candidates = fair_candidates(due_now, batch, limits or ClaimLimits.unlimited(batch))
        values = {
            "state": "publishing",
            "lease_owner": worker,
            "lease_until": now + lease,
            "claim_token": T.claim_token + 1,
            "sent_at": None,
            **_CRASH_COUNTED,
        }
        return await self._claim_rows(candidates, values)

    async def pass_gate(self, claims: Sequence[tuple[str, int]], now: datetime) -> set[str]:
        """The send gate, for a batch: the last instant an edit can still win. Returns the ids
        that passed; the others were edited, deleted or rescued and must not be sent."""
        if not claims:
            return set()
        statement = (
            update(T)
            .where(
                tuple_(T.id, T.claim_token).in_(claims),
                T.state == "publishing",
                T.sent_at.is_(None),
            )
            .values(sent_at=now, first_sent_at=func.coalesce(T.first_sent_at, now))
            .returning(T.id)
        )
        return set((await execute_plain(self._session, statement)).scalars())

    async def heartbeat(self, claims: Sequence[tuple[str, int]], lease_until: datetime) -> None:
        if not claims:
            return
        await self._session.execute(
            update(T)
            .where(
                _unlocked(
                    tuple_(T.id, T.claim_token).in_(claims),
                    T.state.in_(CLAIMED_STATES),
                )
            )
            .values(lease_until=lease_until),
            execution_options={"synchronize_session": False},
        )

    async def rescue_expired_leases(self, now: datetime, rng: random.Random | None = None) -> int:
        """Crashed workers' claims: unsent ones wait again, sent ones are in doubt (never
        re-sent blindly). The token bump fences the zombie if it is merely slow.

        A claim lost while a platform call was under way (past the send gate, or in a
        reconciler's lookup) stays counted as a crash: the call may be what killed the worker.
        One lost before any call is not this post's doing (a worker dies with all it holds)
        and is taken back. Each comes back after its crash_backoff (due_at, which the
        reconciler heeds too), so a dead worker's claims are not taken, and lost, together
        again. Rows another transaction holds are skipped till next round."""
        expired = await self._session.execute(
            select(T.id, T.crashes, _sent_or_reconciling(), T.sent_at.is_not(None))
            .where(T.state.in_(CLAIMED_STATES), T.lease_until < now)
            .with_for_update(skip_locked=True)
        )
        released: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for target_id, crashes, sent, in_a_call in expired:
            left = crashes if in_a_call else max(crashes - 1, 0)
            released[bool(sent)].append(
                {"target_id": target_id, "left": left, "due": now + crash_backoff(left, rng)}
            )
        for sent, rows in released.items():
            if rows:
                values = {
                    **(_released_sent(now) if sent else _RELEASED_UNSENT),
                    "crashes": bindparam("left"),
                    "due_at": bindparam("due", type_=_target.c.due_at.type),
                }
                await self._session.execute(
                    update(_target).where(_target.c.id == bindparam("target_id")).values(values),
                    rows,
                )
        return len(released[False]) + len(released[True])

    async def start_lookup(self, target_id: str, token: int, now: datetime) -> bool:
        """The reconciler's gate before it asks the platform: a worker that dies from here on
        counts a crash (see rescue_expired_leases). False: the claim was lost; don't ask."""
        result = await self._session.execute(
            update(T)
            .where(T.id == target_id, T.claim_token == token, T.state == "reconciling")
            .values(sent_at=now),
            execution_options={"synchronize_session": False},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release_crashed(self, target_id: str, token: int, now: datetime) -> str | None:
        """One claim whose worker raised, released at once as the rescuer would release it
        when its lease ran out: unsent waits again, sent is in doubt (never re-sent blindly).
        Its crash stays counted. Returns the state it went to, or None if it was fenced."""
        mine = (T.id == target_id, T.claim_token == token)
        for condition, values in (
            (and_(T.state == "publishing", T.sent_at.is_(None)), _RELEASED_UNSENT),
            (_sent_or_reconciling(), _released_sent(now)),
        ):
            result = await self._session.execute(
                update(T).where(*mine, condition).values(values),
                execution_options={"synchronize_session": False},
            )
            if result.rowcount:  # type: ignore[attr-defined]
                return str(values["state"])
        return None

    async def claim_in_doubt(
        self,
        worker: str,
        now: datetime,
        settled_before: datetime,
        batch: int,
        lease: timedelta,
        limits: ClaimLimits | None = None,
    ) -> Sequence[ClaimedTarget]:
        candidates = (
            select(T.id)
            .where(
                T.state == "in_doubt",
                T.in_doubt_since <= settled_before,
                or_(T.crashes == 0, T.due_at <= now),  # a rescued claim waits out its backoff
                or_(T.lookup_after.is_(None), T.lookup_after <= now),  # a failed lookup's too
                _not_rate_limited(now),
                *(skipped(limits) if limits else []),
            )
            .order_by(T.in_doubt_since, T.id)
            .limit(batch)
        )
        values = {
            "state": "reconciling",
            "lease_owner": worker,
            "lease_until": now + lease,
            "claim_token": T.claim_token + 1,
            "sent_at": None,  # this claim's call, a lookup, has not begun (start_lookup)
            **_CRASH_COUNTED,
        }
        return await self._claim_rows(candidates, values)

    async def _claim_rows(
        self, candidates: Select[str], values: dict[str, Any]
    ) -> Sequence[ClaimedTarget]:
        """Take the candidate rows in one statement. PostgreSQL skips rows another worker holds;
        SQLite needs no locking since its writers are serialised (BEGIN IMMEDIATE)."""
        if self._postgres:
            taken = candidates.with_for_update(of=T, skip_locked=True).cte("taken")
            statement = update(T).where(T.id == taken.c.id).values(values)
        else:
            statement = update(T).where(T.id.in_(candidates.scalar_subquery())).values(values)
        rows = await execute_plain(self._session, statement.returning(*_CLAIM_COLUMNS))
        return [_claimed(row) for row in rows]

    async def fail_expired(self, now: datetime, message: str) -> set[str]:
        """Waiting targets past their expiry fail visibly as too late (a blocked connection can
        keep them from being claimed); returns the groups whose status must be refreshed."""
        result = await self._session.execute(
            update(T)
            .where(_unlocked(T.state == "scheduled", T.expire_at < now))
            .values(
                state="failed",
                last_error=message,
                last_error_code="TOO_LATE",
                claim_token=T.claim_token + 1,
                updated_at=now,
            )
            .returning(T.post_group_id, T.id),
            execution_options={"synchronize_session": False},
        )
        failed = result.all()
        if failed:
            await targets_finished(self._session, "post.failed", [t for _, t in failed], now)
        return {group_id for group_id, _ in failed}

    async def release(self, worker: str, now: datetime) -> int:
        """On shutdown: this worker's unsent claims wait again; sent ones are in doubt."""
        unsent = await self._session.execute(
            update(T)
            .where(T.lease_owner == worker, T.state == "publishing", T.sent_at.is_(None))
            .values({**_RELEASED_UNSENT, **SETTLED}),
            execution_options={"synchronize_session": False},
        )
        sent = await self._session.execute(
            update(T)
            .where(T.lease_owner == worker, T.state.in_(CLAIMED_STATES))
            .values({**_released_sent(now), **SETTLED}),
            execution_options={"synchronize_session": False},
        )
        return int(unsent.rowcount or 0) + int(sent.rowcount or 0)  # type: ignore[attr-defined]
