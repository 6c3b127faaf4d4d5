"""The first comment's writes on a published target: its gate, and its result."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import PublishTarget


class FirstCommentStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open_gate(self, target_id: str, token: int, progress: dict[str, Any]) -> bool:
        """Mark the comment pending and move the claim token on, once: a second worker (or a
        second call by this one) finds the token moved and never sends the comment again."""
        result = await self._session.execute(
            update(PublishTarget)
            .where(
                PublishTarget.id == target_id,
                PublishTarget.claim_token == token,
                PublishTarget.state == "published",
            )
            .values(progress=progress, claim_token=token + 1),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(result, "rowcount", 0))

    async def record(self, target_id: str, token: int, progress: dict[str, Any]) -> bool:
        result = await self._session.execute(
            update(PublishTarget)
            .where(PublishTarget.id == target_id, PublishTarget.claim_token == token)
            .values(progress=progress),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(result, "rowcount", 0))
