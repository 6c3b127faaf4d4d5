"""The engine's fenced result writes, the attempt log and the per-connection gates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.post_state import TargetState, group_status, transition, wire_status
from herald.models import Connection, ConnectionGate, PostGroup, PublishAttempt, PublishTarget
from herald.store import group_status_due
from herald.store.post_tally import current_keys, note, stored_key
from herald.store.publish_queue import SETTLED
from herald.store.webhook_events import targets_finished

T = PublishTarget
_target: Table = PublishTarget.__table__  # type: ignore[assignment]
_group: Table = PostGroup.__table__  # type: ignore[assignment]
_attempt: Table = PublishAttempt.__table__  # type: ignore[assignment]
# Ids per IN list when reading rows back: well under SQLite's bound-parameter limit.
ID_CHUNK = 500


def _param(name: str, column: str) -> Any:
    """A bound parameter typed like the target column it fills (JSON, UTC datetimes)."""
    return bindparam(name, type_=_target.c[column].type)


# The engine's hottest write, one per published target, built once and run as one executemany
# per batch: built per call and run row by row it cost 0.83 ms a target with its attempt log on
# the 2-vCPU reference box, most of it in SQLAlchemy rather than the database. Fenced like every
# other result write.
_SUCCEED = (
    update(_target)
    .where(
        _target.c.id == bindparam("target_id"),
        _target.c.claim_token == bindparam("token"),
        _target.c.state == bindparam("from_state"),
    )
    .values(
        state="published",
        crashes=SETTLED["crashes"],
        external_id=bindparam("external_id"),
        external_url=bindparam("url"),
        published_at=_param("published_at", "published_at"),
        progress=_param("progress", "progress"),
        lease_owner=None,
        lease_until=None,
        last_error=None,
        last_error_code=None,
        updated_at=_param("updated_at", "updated_at"),
    )
)
# The attempt log of a batch of successes, one executemany; the columns' own defaults fill `id`
# and `at` per row, as the ORM would. Added to the session one object each, the flush cost more
# CPU than the success write itself.
_LOG_ATTEMPT = insert(_attempt)
_SET_GROUP_STATUS = (
    update(_group).where(_group.c.id == bindparam("group_id")).values(status=bindparam("status"))
)


@dataclass(frozen=True)
class Success:
    """A claim's last part is live: what the fenced success write and its attempt log need."""

    target_id: str
    token: int
    from_state: str
    version: int
    part: int
    external_id: str  # the thread's first post: the target's postedId
    url: str | None
    part_external_id: str  # the part just published, for the attempt log
    progress: dict[str, Any]
    now: datetime

    def params(self) -> dict[str, Any]:
        return {
            "target_id": self.target_id,
            "token": self.token,
            "from_state": self.from_state,
            "external_id": self.external_id,
            "url": self.url,
            "published_at": self.now,
            "progress": self.progress,
            "updated_at": self.now,
        }


class PublishResultStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _fenced(
        self, target_id: str, token: int, from_state: str, values: dict[str, Any]
    ) -> bool:
        """Apply `values` only if this claim still holds the row; False means we were fenced.
        A state change is checked against the domain's transition table first, and, as the
        claim's recorded outcome, takes back the crash its claim counted."""
        if "state" in values:
            transition(TargetState(from_state), TargetState(values["state"]))
            values = {**values, **SETTLED}
        result = await self._session.execute(
            update(T)
            .where(T.id == target_id, T.claim_token == token, T.state == from_state)
            .values(values),
            execution_options={"synchronize_session": False},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def save_progress(
        self, target_id: str, token: int, from_state: str, progress: dict[str, Any]
    ) -> bool:
        return await self._fenced(target_id, token, from_state, {"progress": progress})

    async def succeed_many(self, successes: Sequence[Success]) -> list[bool]:
        """Fenced success writes for a batch, in one executemany, and their attempt log; True
        where this claim still held the row. A row whose claim was lost (edited, rescued) is left
        alone and its attempt is logged as `late_success`: proof for the reconciler."""
        for success in successes:
            transition(TargetState(success.from_state), TargetState.PUBLISHED)
        ordered = sorted(successes, key=lambda success: success.target_id)  # lock order
        await self._session.execute(_SUCCEED, [success.params() for success in ordered])
        # Only the holder of a claim token moves its row out of the claimed state, so a row
        # now published under our token was published by this write. Its group comes along,
        # for the note that its status is to be refreshed.
        group_of: dict[tuple[str, int], str] = {}
        for start in range(0, len(ordered), ID_CHUNK):
            chunk = [success.target_id for success in ordered[start : start + ID_CHUNK]]
            rows = await self._session.execute(
                select(_target.c.id, _target.c.claim_token, _target.c.post_group_id).where(
                    _target.c.id.in_(chunk), _target.c.state == "published"
                )
            )
            group_of.update(((target_id, token), group) for target_id, token, group in rows)
        claims = [(success.target_id, success.token) for success in successes]
        applied = [claim in group_of for claim in claims]
        attempts = [
            {
                "target_id": success.target_id,
                "claim_token": success.token,
                "version": success.version,
                "part": success.part,
                "outcome": "published" if was_applied else "late_success",
                "external_id": success.part_external_id,
            }
            for success, was_applied in zip(successes, applied, strict=True)
        ]
        await self._session.execute(_LOG_ATTEMPT, attempts)
        published = [s.target_id for s, ok in zip(successes, applied, strict=True) if ok]
        if published:
            await targets_finished(self._session, "post.published", published, successes[0].now)
        finished = [group_of[claim] for claim in claims if claim in group_of]
        await group_status_due.note(self._session, finished, successes[0].now)
        return applied

    async def reschedule(
        self,
        target_id: str,
        token: int,
        from_state: str,
        *,
        due_at: datetime,
        error: str | None,
        count_attempt: bool,
        count_rate_limit: bool = False,
        progress: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> bool:
        """Back to waiting: only after a definite "not created", or when a re-send is safe."""
        values: dict[str, Any] = {
            "state": "scheduled",
            "due_at": due_at,
            "sent_at": None,
            "in_doubt_since": None,
            "lease_owner": None,
            "lease_until": None,
            "last_error": error,
            # Out of doubt: a later doubt starts its lookups afresh.
            "lookup_failures": 0,
            "lookup_after": None,
        }
        if count_attempt:
            values["attempt"] = T.attempt + 1
        if count_rate_limit:
            values["rate_limited"] = T.rate_limited + 1
        if progress is not None:
            values["progress"] = progress
        if idempotency_key is not None:
            values["idempotency_key"] = idempotency_key
        return await self._fenced(target_id, token, from_state, values)

    async def fail(
        self,
        target_id: str,
        token: int,
        from_state: str,
        *,
        message: str,
        code: str,
        now: datetime,
        outcome_unknown: bool = False,
    ) -> bool:
        values = {
            "state": "outcome_unknown" if outcome_unknown else "failed",
            "last_error": message,
            "last_error_code": code,
            "lease_owner": None,
            "lease_until": None,
            "updated_at": now,
        }
        applied = await self._fenced(target_id, token, from_state, values)
        if applied and not outcome_unknown:
            await targets_finished(self._session, "post.failed", [target_id], now)
        return applied

    async def mark_in_doubt(
        self, target_id: str, token: int, from_state: str, now: datetime
    ) -> bool:
        values = {
            "state": "in_doubt",
            "in_doubt_since": func.coalesce(T.in_doubt_since, now),
            "lease_owner": None,
            "lease_until": None,
        }
        return await self._fenced(target_id, token, from_state, values)

    async def lookup_failed(
        self, target_id: str, token: int, from_state: str, now: datetime, look_again: datetime
    ) -> bool:
        """Back in doubt after a failed lookup, not to be looked up again before `look_again`;
        the failure is counted in the row, so the next wait grows even after a restart."""
        values = {
            "state": "in_doubt",
            "in_doubt_since": func.coalesce(T.in_doubt_since, now),
            "lease_owner": None,
            "lease_until": None,
            "lookup_failures": T.lookup_failures + 1,
            "lookup_after": look_again,
        }
        return await self._fenced(target_id, token, from_state, values)

    async def refresh_group_statuses(self, post_group_ids: Iterable[str]) -> None:
        """Store groups' derived statuses for list filters after targets finished: per chunk of
        groups, their rows locked and read, their targets read, one batched update of those
        whose status changed, each change noted for the tallies (`store.post_tally`)."""
        ids = sorted(set(post_group_ids))  # id order: concurrent refreshes lock rows alike
        session = self._session.sync_session
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            stored = dict(
                stored_key(row) for row in await self._session.execute(current_keys(chunk))
            )
            rows = await self._session.execute(
                select(_target.c.post_group_id, _target.c.state, _target.c.sent_at).where(
                    _target.c.post_group_id.in_(chunk)
                )
            )
            states: dict[str, list[tuple[str, bool]]] = defaultdict(list)
            for group_id, state, sent_at in rows:
                states[group_id].append((state, sent_at is not None))
            updates = []
            for group_id, targets in sorted(states.items()):
                old = stored.get(group_id)
                status = group_status(
                    wire_status(TargetState(state), sent=sent) for state, sent in targets
                ).value
                if old is None or old.status == status:
                    continue
                updates.append({"group_id": group_id, "status": status})
                note(session, old, old._replace(status=status))
            if updates:
                await self._session.execute(_SET_GROUP_STATUS, updates)

    async def log_attempt(self, attempt: PublishAttempt) -> None:
        self._session.add(attempt)

    async def late_success(self, target_id: str, version: int, part: int) -> PublishAttempt | None:
        """A success a fenced worker recorded after losing its claim: proof the part exists."""
        query = select(PublishAttempt).where(
            PublishAttempt.target_id == target_id,
            PublishAttempt.version == version,
            PublishAttempt.part == part,
            PublishAttempt.outcome == "late_success",
        )
        return await self._session.scalar(query.limit(1))

    async def gate_connection(self, connection_id: str, until: datetime, reason: str) -> None:
        """Block a connection's claims until `until`; a later block never shortens an earlier."""
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        table = ConnectionGate.__table__
        statement = dialect.insert(table).values(
            connection_id=connection_id, blocked_until=until, reason=reason
        )
        later = func.max if dialect is sqlite else func.greatest
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.connection_id],
            set_={
                "blocked_until": later(table.c.blocked_until, statement.excluded.blocked_until),
                "reason": statement.excluded.reason,
            },
        )
        await self._session.execute(statement)

    async def mark_needs_reauth(self, connection_id: str) -> None:
        await self._session.execute(
            update(Connection).where(Connection.id == connection_id).values(status="needs_reauth"),
            execution_options={"synchronize_session": False},
        )
