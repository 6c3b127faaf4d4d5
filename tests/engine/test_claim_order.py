"""Which due targets one claim takes: the earliest first, within the worker's fair-share limits
(store/claim_limits.py), whether or not the limits can bind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from herald.domain.timestamps import utc_now
from herald.models import PublishTarget
from herald.store.claim_limits import ClaimLimits
from herald.store.publish_queue import PublishQueueStore
from support import LiveServer, Tenant, create_post, iso_in, target_rows

LEASE = timedelta(minutes=5)


def _due_targets(server: LiveServer, tenants: list[Tenant], per_tenant: int) -> list[Any]:
    """`per_tenant` targets for each tenant, due in the past at interleaved instants; returned
    as (due_at, id, connection_id, account_id), earliest first."""
    now = utc_now()
    rows = []
    for index in range(per_tenant):
        for offset, tenant in enumerate(tenants):
            group_id = create_post(tenant, scheduledTime=iso_in(days=1))
            target = target_rows(server, group_id)[0]
            due = now - timedelta(minutes=60 - 2 * index - offset)
            rows.append((due, target.id, target.connection_id, tenant.account_id))
    # Two targets due at the same instant: the id decides between them.
    rows[-1] = (rows[-2][0], *rows[-1][1:])

    async def stage(session: Any) -> None:
        for due, target_id, _, _ in rows:
            await session.execute(
                update(PublishTarget).where(PublishTarget.id == target_id).values(due_at=due)
            )

    server.transaction(stage)
    return sorted(rows)


def _claim(server: LiveServer, batch: int, limits: ClaimLimits) -> list[str]:
    """The ids one claim takes (in no particular order), released again afterwards."""

    async def work(session: Any) -> list[str]:
        claims = await PublishQueueStore(session).claim("w1", utc_now(), batch, LEASE, limits)
        return [claim.id for claim in claims]

    async def release(session: Any) -> None:
        await session.execute(
            update(PublishTarget).values(state="scheduled", lease_owner=None, lease_until=None)
        )

    taken = server.transaction(work)
    server.transaction(release)
    return taken


def _expected(rows: list[Any], batch: int, limits: ClaimLimits) -> list[str]:
    """The rule, row by row: earliest first, skipping what the limits leave out."""
    per_connection: Counter[str] = Counter()
    per_account: Counter[str] = Counter()
    taken = []
    for _, target_id, connection_id, account_id in rows:
        if connection_id in limits.skip_connections or account_id in limits.skip_accounts:
            continue
        if per_connection[connection_id] >= limits.per_connection:
            continue
        if per_account[account_id] >= limits.per_account:
            continue
        per_connection[connection_id] += 1
        per_account[account_id] += 1
        taken.append(target_id)
    return taken[:batch]


def test_a_claim_takes_the_earliest_rows_within_its_limits(
    server: LiveServer, new_tenant: Callable[..., Tenant]
) -> None:
    tenants = [new_tenant(name) for name in ("Acme", "Globex")]
    rows = _due_targets(server, tenants, per_tenant=6)
    first_connection = rows[0][2]
    second_account = tenants[1].account_id
    cases = [
        (5, ClaimLimits.unlimited(5)),  # limits that cannot bind
        (5, ClaimLimits(5, 12)),  # exactly the batch on one connection
        (5, ClaimLimits(2, 12)),  # binding per connection
        (5, ClaimLimits(12, 3)),  # binding per account
        (12, ClaimLimits(12, 12, skip_connections=frozenset({first_connection}))),
        (4, ClaimLimits(4, 4, skip_accounts=frozenset({second_account}))),
    ]
    for batch, limits in cases:
        taken = _claim(server, batch, limits)
        assert sorted(taken) == sorted(_expected(rows, batch, limits)), (batch, limits)
    # Of two rows due at the same instant, the one with the lower id goes first.
    assert sorted(_claim(server, 11, ClaimLimits.unlimited(11))) == sorted(r[1] for r in rows[:11])
