"""The engine's UploadJournal: a target's upload checkpoint in the database, its session handle
sealed, each save committed before the connector sends the next chunk, and fenced like every
other write of a claim."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.batching import WriteBatcher
from herald.platforms.base import ClaimLostError, UploadCheckpoint
from herald.services.secret_box import SecretBox
from herald.store.upload_session import UploadSessionStore


@dataclass(frozen=True)
class StoredUploadJournal:
    writer: WriteBatcher
    box: SecretBox
    target_id: str
    upload_key: str  # the part's idempotency key: an edited target never resumes an old session
    claim_token: int  # the claim this worker holds: a checkpoint is saved only under it

    async def load(self) -> UploadCheckpoint | None:
        async def read(session: AsyncSession) -> tuple[bytes | None, int, int] | None:
            row = await UploadSessionStore(session).find(self.target_id, self.upload_key)
            return (
                None if row is None else (row.sealed_session, row.confirmed_bytes, row.total_bytes)
            )

        found: tuple[bytes | None, int, int] | None = await self.writer.run(read)
        if found is None or found[0] is None:
            return None
        handle = self.box.open(found[0]).get("session")
        if not isinstance(handle, str):
            return None
        return UploadCheckpoint(handle, found[1], found[2])

    async def save(self, checkpoint: UploadCheckpoint) -> None:
        sealed = self.box.seal({"session": checkpoint.session})  # no crypto under the lock

        async def write(session: AsyncSession) -> bool:
            return await UploadSessionStore(session).save(
                self.target_id,
                self.claim_token,
                self.upload_key,
                sealed,
                checkpoint.offset,
                checkpoint.total,
            )

        if not await self.writer.run(write):
            raise ClaimLostError(f"target {self.target_id} is no longer claim {self.claim_token}")
