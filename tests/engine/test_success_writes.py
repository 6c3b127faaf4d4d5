"""Success writes for a batch of claims: each applied only where its claim still holds the row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from herald.domain.timestamps import utc_now
from herald.models import PublishAttempt, PublishTarget
from herald.store.publish_result import PublishResultStore, Success
from support import LiveServer, Tenant, create_post, iso_in, target_rows


def _success(target_id: str, token: int, from_state: str, post_id: str) -> Success:
    return Success(
        target_id=target_id,
        token=token,
        from_state=from_state,
        version=1,
        part=0,
        external_id=post_id,
        url=f"https://sandbox.test/{post_id}",
        part_external_id=post_id,
        progress={"partIds": [post_id], "partUrls": [f"https://sandbox.test/{post_id}"]},
        now=utc_now(),
    )


def test_a_batch_applies_each_success_only_under_its_own_claim(
    server: LiveServer, tenant: Tenant
) -> None:
    groups = [create_post(tenant, scheduledTime=iso_in(days=1)) for _ in range(3)]
    held, rescued, reconciling = (target_rows(server, g)[0].id for g in groups)

    async def stage(session: Any) -> None:
        for target_id, state, token in (
            (held, "publishing", 5),
            (rescued, "publishing", 6),  # rescued and claimed again since our claim (token 5)
            (reconciling, "reconciling", 7),
        ):
            await session.execute(
                update(PublishTarget)
                .where(PublishTarget.id == target_id)
                .values(state=state, claim_token=token, sent_at=utc_now())
            )

    async def write(session: Any) -> list[bool]:
        return await PublishResultStore(session).succeed_many(
            [
                _success(held, 5, "publishing", "p1"),
                _success(rescued, 5, "publishing", "p2"),
                _success(reconciling, 7, "reconciling", "p3"),
            ]
        )

    async def read(session: Any) -> tuple[dict[str, Any], dict[str, str]]:
        rows = await session.execute(
            select(PublishTarget.id, PublishTarget.state, PublishTarget.external_id)
        )
        attempts = await session.execute(select(PublishAttempt.target_id, PublishAttempt.outcome))
        return {r.id: (r.state, r.external_id) for r in rows}, dict(attempts.all())

    server.transaction(stage)
    assert server.transaction(write) == [True, False, True]
    targets, attempts = server.transaction(read)
    assert targets[held] == ("published", "p1")
    assert targets[rescued] == ("publishing", None)  # the newer claim decides this row
    assert targets[reconciling] == ("published", "p3")
    assert attempts == {held: "published", rescued: "late_success", reconciling: "published"}
    assert tenant.client.get(f"/get-post/{groups[0]}").json()["posts"][0]["postedId"] == "p1"
