"""The group_status_due migration on a database an older worker left behind: a group whose
targets all finished while its stored status did not is noted, and the engine's maintenance
then repairs it; groups with nothing to repair are not noted. Both backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from herald.config import Settings
from herald.db.engine import create_engine, create_session_factory
from herald.db.migrate import migrate
from herald.domain.timestamps import utc_now
from herald.engine.batching import LEFT_OVER_AFTER, GroupStatusBatcher
from migration_support import empty_database

BEFORE = "reads21weeks"  # the head this migration follows
ACCOUNT = "a" * 24
NOW = "2031-01-01 00:00:00"
# Group -> (its stored status, its targets' states).
GROUPS = {
    "left_behind": ("processing", ["published", "published"]),
    "mixed_left_behind": ("pending", ["published", "failed"]),
    "still_running": ("processing", ["published", "publishing"]),
    "up_to_date": ("published", ["published"]),
    "draft_without_targets": ("draft", []),
    "scheduled_without_targets": ("scheduled", []),
}


def _id(name: str) -> str:
    return f"{list(GROUPS).index(name):024x}"


async def _populate(url: str) -> None:
    """Rows as the older code wrote them, in plain SQL: the models are newer."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO account (id, name, is_workspace, created_at) VALUES"
                    f" ('{ACCOUNT}', 'Old', false, '{NOW}')"
                )
            )
            for name, (status, states) in GROUPS.items():
                await connection.execute(
                    text(
                        "INSERT INTO post_group (id, account_id, content, platform_settings,"
                        " alt_texts, status, created_at, updated_at, version) VALUES"
                        f" (:id, '{ACCOUNT}', 'x', '{{}}', '[]', :status, '{NOW}', '{NOW}', 1)"
                    ),
                    {"id": _id(name), "status": status},
                )
                for position, state in enumerate(states):
                    await connection.execute(
                        text(
                            "INSERT INTO publish_target (id, post_group_id, platform,"
                            " external_account_id, position, state, thread_parts, version,"
                            " claim_token, attempt, rate_limited, crashes, progress, updated_at)"
                            " VALUES (:id, :group, 'sandbox', 'x', :position, :state, '[]', 1,"
                            f" 0, 0, 0, 0, '{{}}', '{NOW}')"
                        ),
                        {
                            "id": f"{_id(name)[-12:]}{position:012x}",
                            "group": _id(name),
                            "position": position,
                            "state": state,
                        },
                    )
    finally:
        await engine.dispose()


async def _noted_then_repaired(url: str) -> tuple[set[str], int, dict[str, str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT post_group_id FROM group_status_due"))
            noted = {str(group_id) for (group_id,) in rows}
        # The maintenance pass, once the notes are old enough to have lost their worker.
        batcher = GroupStatusBatcher(create_session_factory(engine))
        repaired = await batcher.refresh_left_over(
            utc_now() + LEFT_OVER_AFTER + timedelta(seconds=1)
        )
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, status FROM post_group"))
            statuses = {str(group_id): str(status) for group_id, status in rows}
        return noted, repaired, statuses
    finally:
        await engine.dispose()


def test_upgrade_notes_the_groups_a_dead_worker_left_behind(
    database: Settings, tmp_path: Path
) -> None:
    async def scenario() -> tuple[set[str], int, dict[str, str]]:
        async with empty_database(database, tmp_path) as url:
            await migrate(url, BEFORE)
            await _populate(url)
            await migrate(url, "head")
            return await _noted_then_repaired(url)

    noted, repaired, statuses = asyncio.run(scenario())
    assert noted == {_id("left_behind"), _id("mixed_left_behind")}
    assert repaired == 2
    assert statuses[_id("left_behind")] == "published"
    assert statuses[_id("mixed_left_behind")] == "partially_published"
    # Nothing else moved: a running group is refreshed when its last target finishes.
    assert statuses[_id("still_running")] == "processing"
    assert statuses[_id("scheduled_without_targets")] == "scheduled"
