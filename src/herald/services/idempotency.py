"""Idempotency-Key (Publora §4): per acting user, 24 h, the first answer replayed, one effect.

A request claims its key in a short transaction of its own (committed, so every replica sees
it in flight), does its work, and records its answer in the same transaction as its effect: the
effect and the record commit together or not at all. A claim whose holder vanished frees after
`LEASE`; if the holder then comes back, its record write finds the version moved and its whole
transaction rolls back, so two effects can never both commit."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import AppError, ConflictError
from herald.store.idempotency import IdempotencyStore

WINDOW = timedelta(hours=24)
LEASE = timedelta(minutes=3)  # Publora: "a stuck in-flight claim frees after about 3 minutes"
PRUNE_BATCH = 1000

IN_FLIGHT = "A request with this idempotency key is still in flight"
SUPERSEDED = "Idempotency claim was superseded by another request"
KEY_CONFLICT = "Idempotency key was already used with a different request body"


class IdempotencyInFlightError(ConflictError):
    code = "IDEMPOTENCY_IN_FLIGHT"


class IdempotencyKeyConflictError(AppError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_CONFLICT"


@dataclass(frozen=True)
class Claim:
    account_id: str
    key: str
    version: str


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: str


def fingerprint(operation: str, target: str | None, payload: Any) -> str:
    """SHA-256 of the operation, the post it acts on and the canonical JSON of what identifies
    the request (the body; key order ignored, so a client may re-serialise it)."""
    canonical = json.dumps(
        [operation, target, payload], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession, account_id: str, key: str, print_: str, now: datetime
) -> Claim | Replay:
    """The key for this request, or the first answer to replay; 409 while another request holds
    it, 422 when it was used for another request."""
    store = IdempotencyStore(session)
    version = _new_version()
    fresh = {
        "account_id": account_id,
        "key": key,
        "fingerprint": print_,
        "version": version,
        "created_at": now,
        "lease_until": now + LEASE,
        "status_code": None,
        "answer": None,
    }
    if await store.insert(fresh):
        return Claim(account_id, key, version)
    record = await store.find(account_id, key)
    if record is None:  # pruned between the two statements: the key is new again
        return await _take(store, fresh, None)
    if record.created_at + WINDOW <= now:
        return await _take(store, fresh, record.version)
    if record.fingerprint != print_:
        raise IdempotencyKeyConflictError(KEY_CONFLICT)
    if record.status_code is not None and record.answer is not None:
        return Replay(record.status_code, record.answer)
    if record.lease_until is not None and record.lease_until <= now:
        # Its holder is gone (or stuck): take over, keeping the 24 h window it opened.
        return await _take(store, fresh | {"created_at": record.created_at}, record.version)
    raise IdempotencyInFlightError(IN_FLIGHT)


async def _take(store: IdempotencyStore, values: dict[str, Any], seen: str | None) -> Claim:
    taken = (
        await store.insert(values)
        if seen is None
        else await store.swap(values["account_id"], values["key"], seen, values)
    )
    if not taken:  # another request took it between our read and our write
        raise IdempotencyInFlightError(IN_FLIGHT)
    return Claim(values["account_id"], values["key"], values["version"])


async def finish(session: AsyncSession, held: Claim, status_code: int, body: str) -> None:
    """Record the answer, in the transaction of the effect it describes; if the claim was taken
    over meanwhile, raise so that the effect rolls back with it."""
    recorded = await IdempotencyStore(session).swap(
        held.account_id,
        held.key,
        held.version,
        {
            "version": _new_version(),
            "lease_until": None,
            "status_code": status_code,
            "answer": body,
        },
    )
    if not recorded:
        raise IdempotencyInFlightError(SUPERSEDED)


async def release(session: AsyncSession, held: Claim) -> None:
    """Free the key of a request that changed nothing (an error answer), so a retry runs afresh."""
    await IdempotencyStore(session).remove(held.account_id, held.key, held.version)


async def prune(session: AsyncSession, now: datetime) -> int:
    return await IdempotencyStore(session).prune(now - WINDOW, PRUNE_BATCH)


def _new_version() -> str:
    return secrets.token_hex(16)
