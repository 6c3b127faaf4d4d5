"""The groups whose stored status is to be refreshed (`models.GroupStatusDue`).

An outcome that finishes a target notes its group in the outcome's own transaction; the engine
refreshes the group's status moments later in a transaction of its own and then clears the note.
A note left standing means the worker died in between, and maintenance refreshes the group.

Lock order (PostgreSQL): notes are written in id order, and with ON CONFLICT DO NOTHING, which
takes no lock on a row already there; clearing runs in a transaction that holds nothing else.
Neither can close a cycle with the group and target locks of edits and refreshes.

A group noted again between a refresh's read and the clearing loses that second note; the
refresh its own worker runs moments later still covers it, unless that worker dies within
those milliseconds too."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import GroupStatusDue

D = GroupStatusDue


async def note(session: AsyncSession, group_ids: Iterable[str], now: datetime) -> None:
    """These groups' statuses are to be refreshed; a group noted already keeps its first time."""
    rows = [{"post_group_id": group_id, "since": now} for group_id in sorted(set(group_ids))]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(D).on_conflict_do_nothing(index_elements=["post_group_id"])
    await session.execute(statement, rows)


async def clear(session: AsyncSession, group_ids: Sequence[str]) -> None:
    """Forget the notes of groups whose statuses were refreshed (and committed)."""
    if group_ids:
        await session.execute(delete(D).where(D.post_group_id.in_(sorted(group_ids))))


async def left_over(session: AsyncSession, before: datetime, limit: int) -> list[str]:
    """Groups noted before `before` and not refreshed since: their worker died in between."""
    query = select(D.post_group_id).where(D.since < before).order_by(D.post_group_id).limit(limit)
    return list((await session.execute(query)).scalars())
