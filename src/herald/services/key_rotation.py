"""Key rotation: re-seal every sealed secret (connection credentials, webhook signing secrets)
under the first key, in short batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.db.engine import unit_of_work
from herald.models import Connection, OAuthState, UploadSession, Webhook
from herald.services.secret_box import SecretBox
from herald.store.sealed_column import SealedColumn

BATCH_SIZE = 200


# Every table holding something SecretBox sealed; a key is pruned only once none needs it.
SOURCES: tuple[Callable[[AsyncSession], SealedColumn], ...] = (
    lambda session: SealedColumn(session, Connection.id, Connection.credentials),
    lambda session: SealedColumn(session, Webhook.id, Webhook.secret),
    lambda session: SealedColumn(session, OAuthState.nonce, OAuthState.sealed_verifier),
    lambda session: SealedColumn(session, UploadSession.target_id, UploadSession.sealed_session),
)


@dataclass
class ResealReport:
    resealed: int = 0
    unreadable: int = 0  # no key of the ring opens them: the connection must be made again
    changed_meanwhile: int = 0  # reconnected or removed during the run: already current


@dataclass
class Census:
    """How many credentials each key of the ring opens first, and how many none opens."""

    per_key: list[int] = field(default_factory=list)
    unreadable: int = 0

    @property
    def under_old_keys(self) -> int:
        return sum(self.per_key[1:])


async def count_sealed_credentials(session: AsyncSession) -> int:
    return sum([await source(session).count_sealed() for source in SOURCES])


async def reseal_all(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, batch_size: int = BATCH_SIZE
) -> ResealReport:
    """Re-seal what an older key sealed. Each batch is read, re-sealed outside any transaction
    (no crypto while the SQLite write lock is held) and written in one short transaction that
    keeps a credential only if nobody replaced it meanwhile, so servers and workers carry on
    publishing and connecting throughout."""
    report = ResealReport()
    for source in SOURCES:
        await _reseal(sessions, box, source, batch_size, report)
    return report


async def _reseal(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    source: Callable[[AsyncSession], SealedColumn],
    batch_size: int,
    report: ResealReport,
) -> None:
    after = ""
    while batch := await _batch(sessions, source, after, batch_size):
        after = batch[-1][0]
        updates: list[tuple[str, bytes, bytes]] = []
        for connection_id, sealed in batch:
            index = box.key_index(sealed)
            if index is None:
                report.unreadable += 1
            elif index > 0:
                updates.append((connection_id, sealed, box.reseal(sealed)))
        if not updates:
            continue
        async with unit_of_work(sessions) as session:
            store = source(session)
            for row_id, old, new in updates:
                if await store.replace_sealed(row_id, old, new):
                    report.resealed += 1
                else:
                    report.changed_meanwhile += 1


async def census(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, batch_size: int = BATCH_SIZE
) -> Census:
    counts = Census(per_key=[0] * len(box.ring.keys))
    for source in SOURCES:
        after = ""
        while batch := await _batch(sessions, source, after, batch_size):
            after = batch[-1][0]
            for _row_id, sealed in batch:
                index = box.key_index(sealed)
                if index is None:
                    counts.unreadable += 1
                else:
                    counts.per_key[index] += 1
    return counts


async def _batch(
    sessions: async_sessionmaker[AsyncSession],
    source: Callable[[AsyncSession], SealedColumn],
    after: str,
    limit: int,
) -> list[tuple[str, bytes]]:
    async with unit_of_work(sessions, write=False) as session:
        return await source(session).sealed_after(after, limit)
