"""OAuth states: stored when a connection starts, taken (deleted) when the browser returns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import OAuthState


class OAuthStateStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, state: OAuthState) -> None:
        self._session.add(state)
        await self._session.flush()

    async def take(self, nonce: str, now: datetime) -> OAuthState | None:
        """The state, deleted in the same statement, so two callbacks racing with one state
        (in any processes) cannot both have it; None when used, expired or never made."""
        statement = (
            delete(OAuthState)
            .where(OAuthState.nonce == nonce, OAuthState.expires_at > now)
            .returning(
                OAuthState.nonce,
                OAuthState.account_id,
                OAuthState.platform,
                OAuthState.sealed_verifier,
                OAuthState.expires_at,
            )
            .execution_options(synchronize_session=False)
        )
        row = (await self._session.execute(statement)).mappings().first()
        return OAuthState(**row) if row is not None else None

    async def sweep(self, now: datetime) -> int:
        result = await self._session.execute(
            delete(OAuthState).where(OAuthState.expires_at <= now),
            execution_options={"synchronize_session": False},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
