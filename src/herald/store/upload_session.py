"""Upload checkpoints: read and write a target's resumable upload session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.timestamps import utc_now
from herald.models import UploadSession


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
        self, target_id: str, upload_key: str, sealed: bytes, confirmed: int, total: int
    ) -> None:
        """Insert or replace the target's session (one per target)."""
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
