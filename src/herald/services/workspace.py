"""Workspace accounts and their managed users (publora-latest §2.19; DESIGN §3.10)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.ids import is_id
from herald.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from herald.models import Account, ConnectionsPage
from herald.services import connections_page
from herald.services.account import issue_api_key
from herald.services.auth import Principal
from herald.store.account import AccountStore, ApiKeyStore
from herald.store.connections_page import ConnectionsPageStore


def require_workspace(principal: Principal) -> str:
    """Workspace endpoints always act for the key's own workspace account."""
    if not principal.is_workspace:
        raise ForbiddenError(
            "Workspace access is not enabled for this key", code="WORKSPACE_ACCESS_DISABLED"
        )
    return principal.key_account_id


def user_not_found() -> NotFoundError:
    return NotFoundError("User not found or not managed by this key", code="USER_NOT_FOUND")


async def list_users(
    session: AsyncSession, workspace_id: str
) -> list[tuple[Account, ConnectionsPage | None]]:
    """Each managed user with their connections page row, in two queries."""
    users = await AccountStore(session).list_managed_users(workspace_id)
    pages = await ConnectionsPageStore(session).for_accounts([u.id for u in users])
    return [(user, pages.get(user.id)) for user in users]


async def list_pages(session: AsyncSession, account_ids: list[str]) -> dict[str, ConnectionsPage]:
    return await ConnectionsPageStore(session).for_accounts(account_ids)


async def create_user(
    session: AsyncSession, workspace_id: str, email: str, display_name: str | None
) -> Account:
    store = AccountStore(session)
    existing = await store.find_managed_user_by_email(workspace_id, email)
    if existing is not None:
        # Publora's 409 body; Herald's users exist only inside a workspace, so the one
        # conflict it can have is a user already in this one.
        raise ConflictError(
            "User with this email already exists",
            code="email_exists",
            userId=existing.id,
            alreadyInWorkspace=True,
            managedByAnotherWorkspace=False,
            reason="already_in_workspace",
            attachable=False,
            requiresConsent=False,
        )
    user = Account(name=display_name or email, email=email, parent_id=workspace_id)
    return await store.add(user)


async def attach_user(
    session: AsyncSession, workspace_id: str, email: str | None, user_id: str | None
) -> Account:
    """Publora's attach (§2.19) for Herald, where every user lives inside one workspace: a
    user of this workspace is re-attached (idempotent, no consent needed); anyone else is not
    found, as Herald has no standalone users to attach."""
    store = AccountStore(session)
    by_email = await store.find_managed_user_by_email(workspace_id, email) if email else None
    by_id = await store.get_managed_user(workspace_id, user_id) if user_id else None
    if email and user_id and by_email is not None and by_id is not None and by_email != by_id:
        raise ValidationError(
            "Email and userId identify different users", code="identifier_mismatch"
        )
    user = by_id or by_email
    if user is None or (email and user_id and (by_email is None or by_id is None)):
        raise NotFoundError("User not found", code="user_not_found")
    return user


async def delete_user(session: AsyncSession, workspace_id: str, user_id: str) -> None:
    """Removes the managed user with its keys, connections and posts."""
    store = AccountStore(session)
    await store.delete(await managed_user(store, workspace_id, user_id))


async def regenerate_user_key(
    session: AsyncSession, workspace_id: str, user_id: str, now: datetime
) -> str:
    """A new per-user key; every earlier key of that user stops working at once."""
    user = await managed_user(AccountStore(session), workspace_id, user_id)
    await ApiKeyStore(session).revoke_all(user.id, now)
    key, _ = await issue_api_key(session, user.id)
    return key


async def connection_url(
    session: AsyncSession,
    workspace_id: str,
    user_id: str,
    *,
    rotate: bool,
    days: float,
    now: datetime,
) -> ConnectionsPage:
    user = await managed_user(AccountStore(session), workspace_id, user_id)
    return await connections_page.get_or_generate(session, user, rotate=rotate, days=days, now=now)


async def managed_user(store: AccountStore, workspace_id: str, user_id: str) -> Account:
    """A malformed id is unknown without asking the database, which may refuse its text."""
    user = await store.get_managed_user(workspace_id, user_id) if is_id(user_id) else None
    if user is None:
        raise user_not_found()
    return user
