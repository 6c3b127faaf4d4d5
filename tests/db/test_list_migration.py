"""The list-indexes migration on a database that already holds posts: every group gets its
platform set from its targets, the covering indexes replace the old ones, on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from herald.config import Settings
from herald.db.engine import create_engine
from herald.db.migrate import migrate
from herald.domain.platform import platform_bits
from herald.models.post import LIST_INDEXES
from migration_support import empty_database

BEFORE = "dea9c5527336"  # the head this migration follows
# Group number -> its targets' platforms (a group with none keeps an empty set).
GROUPS = {
    0: ["sandbox"],
    1: ["bluesky", "mastodon"],
    2: ["telegram", "telegram", "sandbox"],
    3: [],
    4: ["twitter", "threads", "tiktok", "youtube", "facebook", "linkedin", "instagram"],
}


async def _populate(url: str) -> None:
    """Rows as the older code wrote them (no platform set), in plain SQL: the models are newer."""
    engine = create_engine(url)
    now = "2031-01-01 00:00:00"
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO account (id, name, is_workspace, created_at) VALUES"
                    f" ('{'a' * 24}', 'Old', false, '{now}')"
                )
            )
            for number, platforms in GROUPS.items():
                await connection.execute(
                    text(
                        "INSERT INTO post_group (id, account_id, content, platform_settings,"
                        " alt_texts, status, created_at, updated_at, version) VALUES"
                        f" (:id, '{'a' * 24}', 'x', '{{}}', '[]', 'draft', '{now}', '{now}', 1)"
                    ),
                    {"id": f"{number:024x}"},
                )
                for position, platform in enumerate(platforms):
                    await connection.execute(
                        text(
                            "INSERT INTO publish_target (id, post_group_id, platform,"
                            " external_account_id, position, state, thread_parts, version,"
                            " claim_token, attempt, rate_limited, crashes, progress, updated_at)"
                            " VALUES (:id, :group, :platform, 'x', :position, 'draft', '[]', 1,"
                            f" 0, 0, 0, 0, '{{}}', '{now}')"
                        ),
                        {
                            "id": f"{number:012x}{position:012x}",
                            "group": f"{number:024x}",
                            "platform": platform,
                            "position": position,
                        },
                    )
    finally:
        await engine.dispose()


async def _read(url: str) -> tuple[dict[int, int], set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, platform_bits FROM post_group"))
            bits = {int(group_id, 16): value for group_id, value in rows}

            def indexes(sync: Connection) -> set[str]:
                return {str(i["name"]) for i in inspect(sync).get_indexes("post_group")}

            return bits, await connection.run_sync(indexes)
    finally:
        await engine.dispose()


def test_upgrade_fills_the_platform_set_of_existing_posts(
    database: Settings, tmp_path: Path
) -> None:
    async def scenario() -> tuple[dict[int, int], set[str]]:
        async with empty_database(database, tmp_path) as url:
            await migrate(url, BEFORE)
            await _populate(url)
            await migrate(url, "head")
            return await _read(url)

    bits, indexes = asyncio.run(scenario())
    assert bits == {number: platform_bits(platforms) for number, platforms in GROUPS.items()}
    assert bits[3] == 0
    assert bits[4] == 0b1111111
    assert {index.name for index in LIST_INDEXES} <= indexes
    assert not {"ix_post_group_account_created", "ix_post_group_account_scheduled"} & indexes
