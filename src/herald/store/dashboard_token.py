"""Dashboard sign-in links and sessions, found and spent by the hash of their token."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Account, DashboardToken


class DashboardTokenStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: DashboardToken) -> None:
        self._session.add(token)
        await self._session.flush()

    async def take(self, token_hash: str, kind: str, now: datetime) -> str | None:
        """Delete a live token in one statement and return its account id: two browsers racing
        with one sign-in link cannot both have it."""
        statement = (
            delete(DashboardToken)
            .where(
                DashboardToken.token_hash == token_hash,
                DashboardToken.kind == kind,
                DashboardToken.expires_at > now,
            )
            .returning(DashboardToken.account_id)
            .execution_options(synchronize_session=False)
        )
        return (await self._session.execute(statement)).scalar()

    async def find(self, token_hash: str, kind: str, now: datetime) -> DashboardToken | None:
        query = select(DashboardToken).where(
            DashboardToken.token_hash == token_hash,
            DashboardToken.kind == kind,
            DashboardToken.expires_at > now,
        )
        return await self._session.scalar(query)

    async def sweep(self, now: datetime) -> None:
        await self._session.execute(
            delete(DashboardToken).where(DashboardToken.expires_at <= now),
            execution_options={"synchronize_session": False},
        )

    async def accounts_by_email(self, email: str) -> Sequence[Account]:
        query = select(Account).where(Account.email == email, Account.password_hash.is_not(None))
        return (await self._session.scalars(query.limit(2))).all()
