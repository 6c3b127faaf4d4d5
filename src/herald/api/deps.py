"""Annotated dependencies: the app context, the parsed JSON body and the calling principal."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader

from herald.api.context import AppContext
from herald.api.json_input import parse_json_object
from herald.errors import AppError, RateLimitedError
from herald.services.auth import Principal, act_as, authenticate_key

RATE_DECISION_STATE = "rate_limit"

_api_key_header = APIKeyHeader(name="x-publora-key", auto_error=False)


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


async def json_body(request: Request) -> dict[str, Any]:
    return parse_json_object(await request.body())


JsonBody = Annotated[dict[str, Any], Depends(json_body)]


async def current_principal(
    request: Request,
    context: Context,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    managed_user_id: Annotated[
        str | None,
        Header(alias="x-publora-user-id", description="Managed user to act as (workspace keys)"),
    ] = None,
) -> Principal:
    async with context.transaction(write=False) as session:
        owner = await authenticate_key(session, api_key)
        outcome: Principal | AppError
        try:
            outcome = await act_as(session, owner, managed_user_id)
        except AppError as exc:
            outcome = exc
    # Counted per key owner before a refusal to act as the user is answered, so rejected
    # requests count too. Counted after the read transaction closed: the database limiter takes
    # a connection of its own, and a request holding two at once let 50 concurrent requests
    # hold the whole pool while each waited for a second connection.
    decision = await context.rate_limiter.hit(owner.account_id)
    if decision is not None:
        setattr(request.state, RATE_DECISION_STATE, decision)
        if not decision.allowed:
            raise RateLimitedError(decision.retry_after(time.time()))
    if isinstance(outcome, AppError):
        raise outcome
    return outcome


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
