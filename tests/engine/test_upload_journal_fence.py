"""An upload checkpoint is a write like any result: a worker that lost its claim (its lease ran
out behind a partition, and the target was rescued and claimed again) must not overwrite the
checkpoint of the worker that holds it now, or the next resume would pick up a session the
stale worker may still be finishing. Real database, both engines."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from herald.engine.batching import WriteBatcher
from herald.engine.upload_journal import StoredUploadJournal
from herald.models import PublishTarget
from herald.platforms.base import ClaimLostError, UploadCheckpoint
from support import LiveServer, Tenant, create_post, iso_in, target_rows, update_target

KEY = "upload-key:0"


def _journals(
    server: LiveServer, writer: WriteBatcher, target_id: str, *tokens: int
) -> list[StoredUploadJournal]:
    box = server.context.secret_box
    return [StoredUploadJournal(writer, box, target_id, KEY, token) for token in tokens]


async def _claim(server: LiveServer, target_id: str, **values: Any) -> None:
    """What the rescuer and the next claim write, from the server's own loop."""
    async with server.context.transaction() as session:
        statement = update(PublishTarget).where(PublishTarget.id == target_id).values(**values)
        await session.execute(statement)


def test_a_checkpoint_saved_under_a_lost_claim_is_refused(
    server: LiveServer, tenant: Tenant
) -> None:
    group_id = create_post(tenant, content="A video", scheduledTime=iso_in(days=1))
    update_target(server, group_id, state="publishing", claim_token=7)
    [target] = target_rows(server, group_id)

    async def scenario() -> None:
        writer = WriteBatcher(server.context.sessions, max_delay=0.001)
        writer.start()
        try:
            stale, current = _journals(server, writer, target.id, 7, 8)
            await stale.save(UploadCheckpoint("session-A", 100, 1000))
            assert await stale.load() == UploadCheckpoint("session-A", 100, 1000)
            # Rescued (in doubt, token bumped) and claimed again for a re-send.
            await _claim(server, target.id, state="reconciling", claim_token=8)
            await current.save(UploadCheckpoint("session-B", 0, 1000))
            with pytest.raises(ClaimLostError):
                await stale.save(UploadCheckpoint("session-A", 200, 1000))
            assert await current.load() == UploadCheckpoint("session-B", 0, 1000)
            # Released back to waiting (edited, or deleted): nobody's checkpoint is written.
            await _claim(server, target.id, state="scheduled", claim_token=9)
            with pytest.raises(ClaimLostError):
                await current.save(UploadCheckpoint("session-B", 300, 1000))
            assert await current.load() == UploadCheckpoint("session-B", 0, 1000)
        finally:
            await writer.stop()

    server.run(scenario())  # the loop the server's sessions belong to
