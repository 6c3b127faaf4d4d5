"""Upload checkpoints: read and write a target's resumable upload session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.timestamps import utc_now
from herald.models import PublishTarget, UploadSession
from herald.store.publish_queue import CLAIMED_STATES


class UploadSessionStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, target_id: str, upload_key: str) -> UploadSession | None:
        """The target's session if it was opened under this key."""
        query = select(UploadSession).where(
            UploadSession.target_id == target_id, UploadSession.upload_key == upload_key
        )
        found: UploadSession | None = await self._session.scalar(query)
        return found

    async def save(
        self,
        target_id: str,
        claim_token: int,
        upload_key: str,
        sealed: bytes,
        confirmed: int,
        total: int,
    ) -> bool:
        """Insert or replace the target's session (one per target), only while `claim_token`
        still holds the target; False, writing nothing, once it does not."""
        # Locks the target row until commit: the rescuer's token bump waits behind this write
        # (PostgreSQL), and SQLite's write transactions take their lock up front anyway.
        held = await self._session.scalar(
            select(PublishTarget.id)
            .where(
                PublishTarget.id == target_id,
                PublishTarget.claim_token == claim_token,
                PublishTarget.state.in_(CLAIMED_STATES),
            )
            .with_for_update()
        )
        if held is None:
            return False
        row = await self._session.get(UploadSession, target_id)
        if row is None:
            row = UploadSession(target_id=target_id)
            self._session.add(row)
        row.upload_key = upload_key
        row.sealed_session = sealed
        row.confirmed_bytes = confirmed
        row.total_bytes = total
        row.updated_at = utc_now()
        await self._session.flush()
        return True
