"""The Idempotency-Key header for the routes that take it: claim, replay, record, release."""

from __future__ import annotations

from types import TracebackType
from typing import Annotated

from fastapi import Header
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from herald.api.context import AppContext
from herald.domain.timestamps import utc_now
from herald.errors import ValidationError, check_length
from herald.models.idempotency import IDEMPOTENCY_KEY_LENGTH
from herald.services import idempotency
from herald.services.idempotency import Claim, Replay

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "Opt-in: the same key and body within 24 h replays the first answer (nothing is "
            "done twice); 409 while that request is in flight; 422 with another body. "
            "Scoped to the acting user."
        ),
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"  # a Herald extension: "true" on a replayed answer


def _checked_key(key: str) -> str:
    if not key:
        raise ValidationError("Idempotency-Key must not be empty", code="INVALID_IDEMPOTENCY_KEY")
    check_length("Idempotency-Key", key, IDEMPOTENCY_KEY_LENGTH)
    return key


class Once:
    """`async with Once(...) as once:` around a route's work. `once.replayed` is the first
    answer when this is a repeat; otherwise the route records its answer with `once.answer`
    inside the transaction that makes its change. Any exception frees the key."""

    def __init__(self, context: AppContext, account_id: str, key: str | None, print_: str) -> None:
        self._context = context
        self._account_id = account_id
        self._key = None if key is None else _checked_key(key)
        self._print = print_
        self._claim: Claim | None = None
        self.replayed: Response | None = None

    async def __aenter__(self) -> Once:
        if self._key is None:
            return self
        async with self._context.transaction() as session:
            outcome = await idempotency.claim(
                session, self._account_id, self._key, self._print, utc_now()
            )
        if isinstance(outcome, Replay):
            self.replayed = Response(
                outcome.body,
                status_code=outcome.status_code,
                media_type="application/json",
                headers={REPLAYED_HEADER: "true"},
            )
        else:
            self._claim = outcome
        return self

    async def answer(self, session: AsyncSession, response: JSONResponse) -> JSONResponse:
        if self._claim is not None:
            body = bytes(response.body).decode()
            await idempotency.finish(session, self._claim, response.status_code, body)
        return response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # After a committed answer the record's version has moved on and this deletes nothing.
        if exc is not None and self._claim is not None:
            async with self._context.transaction() as session:
                await idempotency.release(session, self._claim)
