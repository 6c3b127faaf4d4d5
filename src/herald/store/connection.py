"""Connected social accounts."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Account, Connection, ConnectionGate

# Ids are random after their first four bytes (the second they were made): oldest first needs
# the creation time, the id only breaks ties.
_CREATION_ORDER = (Connection.created_at, Connection.id)


class ConnectionStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, connection: Connection) -> Connection:
        self._session.add(connection)
        await self._session.flush()
        return connection

    async def list_for_account(self, account_id: str) -> Sequence[Connection]:
        query = select(Connection).where(Connection.account_id == account_id)
        return (await self._session.scalars(query.order_by(*_CREATION_ORDER))).all()

    async def list_all(self) -> Sequence[tuple[Connection, Account]]:
        query = select(Connection, Account).join(Account).order_by(*_CREATION_ORDER)
        return [(c, a) for c, a in await self._session.execute(query)]

    async def find(self, account_id: str, platform: str, external_id: str) -> Connection | None:
        query = select(Connection).where(
            Connection.account_id == account_id,
            Connection.platform == platform,
            Connection.external_id == external_id,
        )
        return await self._session.scalar(query)

    async def find_many(
        self, account_id: str, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], Connection]:
        """The account's connections among (platform, external id) pairs, in one query."""
        if not keys:
            return {}
        query = select(Connection).where(
            Connection.account_id == account_id,
            Connection.external_id.in_({external_id for _, external_id in keys}),
        )
        found = (await self._session.scalars(query)).all()
        return {
            (c.platform, c.external_id): c for c in found if (c.platform, c.external_id) in keys
        }

    async def existing_ids(self, account_id: str, ids: Collection[str]) -> set[str]:
        query = select(Connection.id).where(
            Connection.account_id == account_id, Connection.id.in_(ids)
        )
        return set((await self._session.scalars(query)).all())

    async def find_any(self, platform: str, external_id: str) -> Connection | None:
        query = select(Connection).where(
            Connection.platform == platform, Connection.external_id == external_id
        )
        return await self._session.scalar(query.order_by(*_CREATION_ORDER).limit(1))

    async def delete(self, connection: Connection) -> None:
        await self._session.delete(connection)
        await self._session.flush()

    async def lift_reauth_gate(self, connection_id: str) -> None:
        """New credentials end a `needs_reauth` block; a rate-limit block runs its course."""
        await self._session.execute(
            delete(ConnectionGate).where(
                ConnectionGate.connection_id == connection_id,
                ConnectionGate.reason == "needs_reauth",
            )
        )

    async def lock(self, connection_id: str) -> Connection | None:
        """The connection, its row held until the transaction ends (PostgreSQL; a SQLite
        write transaction holds the whole database already)."""
        query = select(Connection).where(Connection.id == connection_id).with_for_update()
        return await self._session.scalar(query.execution_options(populate_existing=True))

    async def due_for_refresh(self, now: datetime, limit: int) -> list[str]:
        """Active connections whose planned token renewal has come, soonest first."""
        query = (
            select(Connection.id)
            .where(Connection.refresh_at <= now, Connection.status == "active")
            .order_by(Connection.refresh_at)
            .limit(limit)
        )
        return list((await self._session.scalars(query)).all())

    async def expiring_unwarned(
        self, before: datetime, limit: int, later: Mapping[str, datetime] | None = None
    ) -> Sequence[Connection]:
        """Connections whose effective expiry comes before `before` (or, for a platform named
        in `later`, before its own time) and whose owner has not been warned about this
        credential yet."""
        windows = dict(later or {})
        due = [
            and_(Connection.platform == name, Connection.access_token_expires_at <= until)
            for name, until in windows.items()
        ]
        due.append(
            and_(
                Connection.platform.not_in(list(windows)),
                Connection.access_token_expires_at <= before,
            )
        )
        query = (
            select(Connection)
            .where(or_(*due), Connection.expiry_warned_at.is_(None))
            .order_by(Connection.access_token_expires_at)
            .limit(limit)
        )
        return (await self._session.scalars(query)).all()
