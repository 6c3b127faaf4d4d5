"""Stored group statuses refreshed many groups at a time, as the engine's batcher does."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from herald.domain.timestamps import utc_now
from herald.models import PostGroup, PublishTarget
from herald.store import publish_result
from herald.store.publish_result import PublishResultStore
from support import LiveServer, Tenant, add_sandbox_connection, create_post, iso_in

# Target states by position, and the group status clients must then see (DESIGN §4).
CASES = [
    (["published", "published"], "published"),
    (["failed", "outcome_unknown"], "failed"),
    (["published", "failed"], "partially_published"),
    (["publishing+sent", "published"], "processing"),
    (["publishing", "published"], "pending"),
    (["scheduled", "in_doubt"], "scheduled"),
]


def test_each_group_gets_the_status_of_its_own_targets_across_chunks(
    server: LiveServer, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish_result, "ID_CHUNK", 4)  # the cases span two reads
    second = add_sandbox_connection(server, tenant.account_id)
    groups = [
        create_post(tenant, platforms=[tenant.platform_id, second], scheduledTime=iso_in(days=1))
        for _ in CASES
    ]

    async def stage(session: Any) -> None:
        for group_id, (states, _) in zip(groups, CASES, strict=True):
            for position, state in enumerate(states):
                name, _, sent = state.partition("+")
                await session.execute(
                    update(PublishTarget)
                    .where(
                        PublishTarget.post_group_id == group_id,
                        PublishTarget.position == position,
                    )
                    .values(state=name, sent_at=utc_now() if sent else None)
                )

    async def refresh(session: Any) -> None:
        await PublishResultStore(session).refresh_group_statuses(reversed(groups))

    async def statuses(session: Any) -> dict[str, str]:
        rows = await session.execute(select(PostGroup.id, PostGroup.status))
        return dict(rows.all())

    server.transaction(stage)
    assert {server.transaction(statuses)[g] for g in groups} == {"scheduled"}  # not yet
    server.transaction(refresh)
    stored = server.transaction(statuses)
    assert [stored[g] for g in groups] == [status for _, status in CASES]
    for group_id, (_, status) in zip(groups, CASES, strict=True):
        assert tenant.client.get(f"/get-post/{group_id}").json()["status"] == status
