"""A fast builder of a long post history for one account: raw multi-row inserts (SQLite) or COPY
(PostgreSQL), not the API, with the columns create-post and the engine would have written."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from herald.db.engine import create_engine
from herald.db.migrate import MIGRATIONS_DIR, migrate
from herald.domain.ids import new_id
from herald.domain.platform import platform_bits
from herald.domain.publishing import publish_key

# The schema the builder writes. Rows go in at this revision and every later migration then runs
# on the populated database (`--upgrade` times them). The tenant is made through today's services,
# so this must be a revision today's models can write accounts and connections at: the dashboard's
# sign-in columns on account (`dash01signin`) moved it there, after the list indexes and the kept
# tallies, whose upgrade times at 1,000,000 groups bench/README.md records.
BASE_REVISION = "dash01signin"
CHUNK = 20_000
HISTORY = timedelta(days=3 * 365)
# Weights of each group status, and of each platform being among a group's targets: sandbox
# is on most groups, telegram on few, so the platform filter has a common and a rare case.
STATUSES = (
    ("published", 70),
    ("scheduled", 15),
    ("draft", 8),
    ("failed", 5),
    ("partially_published", 2),
)
PLATFORM_ODDS = (("sandbox", 0.85), ("bluesky", 0.30), ("mastodon", 0.20), ("telegram", 0.03))

GROUP_COLUMNS = [
    "id",
    "account_id",
    "content",
    "platform_settings",
    "alt_texts",
    "status",
    "platform_bits",
    "scheduled_at",
    "created_at",
    "updated_at",
    "version",
]
TARGET_COLUMNS = [
    "id",
    "post_group_id",
    "connection_id",
    "platform",
    "external_account_id",
    "position",
    "state",
    "thread_parts",
    "due_at",
    "expire_at",
    "version",
    "claim_token",
    "attempt",
    "rate_limited",
    "crashes",
    "idempotency_key",
    "progress",
    "external_id",
    "published_at",
    "last_error_code",
    "updated_at",
]


@dataclass(frozen=True)
class Shape:
    account_id: str
    sandbox_connection_id: str
    now: datetime
    seed: int = 19


async def migrate_to(url: str, revision: str) -> float:
    """Upgrade to `revision`; the seconds it took."""
    started = time.perf_counter()
    await migrate(url, revision)
    return time.perf_counter() - started


def _group_rows(shape: Shape, count: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    rng = random.Random(shape.seed)
    start = shape.now - HISTORY
    step = (HISTORY - timedelta(days=1)) / count
    statuses, weights = zip(*STATUSES, strict=True)
    for number in range(count):
        created = start + step * number
        status = rng.choices(statuses, weights)[0]
        platforms = [p for p, odds in PLATFORM_ODDS if rng.random() < odds] or ["sandbox"]
        if status == "partially_published" and len(platforms) < 2:
            status = "published"
        scheduled: datetime | None
        if status == "scheduled":
            scheduled = shape.now + timedelta(seconds=rng.uniform(3600, 365 * 86400))
        elif status == "draft" and rng.random() < 0.5:
            scheduled = None
        else:
            scheduled = created + timedelta(seconds=rng.uniform(3600, 14 * 86400))
        updated = min(scheduled or created, shape.now) if status != "scheduled" else created
        group_id = new_id()
        text = f"Post {number} from the archive: hello from Herald"
        group = {
            "id": group_id,
            "account_id": shape.account_id,
            "content": text,
            "platform_settings": "{}",
            "alt_texts": "[]",
            "status": status,
            "platform_bits": platform_bits(platforms),
            "scheduled_at": scheduled,
            "created_at": created,
            "updated_at": updated,
            "version": 1,
        }
        targets = [
            _target(shape, group_id, position, platform, status, scheduled, updated, text)
            for position, platform in enumerate(platforms)
        ]
        yield group, targets


def _target(
    shape: Shape,
    group_id: str,
    position: int,
    platform: str,
    status: str,
    scheduled: datetime | None,
    updated: datetime,
    text: str,
) -> dict[str, Any]:
    state = status
    if status == "partially_published":
        state = "published" if position == 0 else "failed"
    target_id = new_id()
    due = scheduled if state == "scheduled" else None
    return {
        "id": target_id,
        "post_group_id": group_id,
        # Only the sandbox connection exists; the others were removed since (SET NULL).
        "connection_id": shape.sandbox_connection_id if platform == "sandbox" else None,
        "platform": platform,
        "external_account_id": f"{platform}-archive",
        "position": position,
        "state": state,
        "thread_parts": json.dumps([text]),
        "due_at": due,
        "expire_at": due + timedelta(hours=24) if due else None,
        "version": 1,
        "claim_token": 0,
        "attempt": 1 if state in ("published", "failed") else 0,
        "rate_limited": 0,
        "crashes": 0,
        "idempotency_key": publish_key(target_id, 1),
        "progress": "{}",
        "external_id": f"x{target_id}" if state == "published" else None,
        "published_at": updated if state == "published" else None,
        "last_error_code": "PLATFORM_REJECTED" if state == "failed" else None,
        "updated_at": updated,
    }


def _chunks(shape: Shape, count: int) -> Iterator[tuple[list[Any], list[Any]]]:
    groups: list[Any] = []
    targets: list[Any] = []
    for group, group_targets in _group_rows(shape, count):
        groups.append(group)
        targets.extend(group_targets)
        if len(groups) == CHUNK:
            yield groups, targets
            groups, targets = [], []
    if groups:
        yield groups, targets


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy's SQLite DateTime storage: naive UTC text with microseconds.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _insert_sqlite(path: str, shape: Shape, count: int) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        statement = "INSERT INTO {} ({}) VALUES ({})"
        for groups, targets in _chunks(shape, count):
            for table, columns, rows in (
                ("post_group", GROUP_COLUMNS, groups),
                ("publish_target", TARGET_COLUMNS, targets),
            ):
                sql = statement.format(table, ", ".join(columns), ", ".join("?" * len(columns)))
                connection.executemany(
                    sql, [tuple(_sqlite_value(row[c]) for c in columns) for row in rows]
                )
            connection.commit()
    finally:
        connection.close()


async def _insert_postgres(dsn: str, shape: Shape, count: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for groups, targets in _chunks(shape, count):
            async with connection.transaction():
                for table, columns, rows in (
                    ("post_group", GROUP_COLUMNS, groups),
                    ("publish_target", TARGET_COLUMNS, targets),
                ):
                    await connection.copy_records_to_table(
                        table,
                        records=[tuple(row[c] for c in columns) for row in rows],
                        columns=columns,
                    )
        await connection.execute("VACUUM ANALYZE post_group")
        await connection.execute("VACUUM ANALYZE publish_target")
    finally:
        await connection.close()


async def insert_history(url: str, shape: Shape, count: int) -> float:
    """`count` groups (1 to 4 targets each) created over three years; the seconds it took."""
    started = time.perf_counter()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        await asyncio.to_thread(_insert_sqlite, path, shape, count)
    else:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        await _insert_postgres(dsn, shape, count)
    await _count_into_tallies(url)
    return time.perf_counter() - started


async def _count_into_tallies(url: str) -> None:
    """The kept tallies that exist at the builder's revision, counted as their migration
    counted them: the raw inserts above bypass the code that keeps them."""
    path = next(MIGRATIONS_DIR.glob("versions/*_post_tally.py"))
    spec = importlib.util.spec_from_file_location("post_tally_migration", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(migration.BACKFILL)
    finally:
        await engine.dispose()
