"""Who is calling: the API key's account and, for workspaces, the managed user acted as."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.api_key import hash_api_key
from herald.domain.ids import is_id
from herald.errors import AuthenticationError, ForbiddenError, ValidationError
from herald.store.account import AccountStore, ApiKeyStore


@dataclass(frozen=True)
class KeyOwner:
    """The account an API key belongs to."""

    account_id: str
    is_workspace: bool


@dataclass(frozen=True)
class Principal:
    key_account_id: str  # whose key it is: rate limits and workspace rights belong to it
    account_id: str  # whose data the request reads and writes
    is_workspace: bool


async def authenticate_key(session: AsyncSession, api_key: str | None) -> KeyOwner:
    if not api_key:
        raise AuthenticationError("Invalid API key")
    digest = hash_api_key(api_key)
    key = await ApiKeyStore(session).find_active(digest)
    # The lookup is by digest, so timing reveals nothing about stored keys; compare anyway so
    # the check does not rest on the database's collation.
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        raise AuthenticationError("Invalid API key")
    account = await AccountStore(session).get(key.account_id)
    if account is None:
        raise AuthenticationError("Invalid API key")
    return KeyOwner(account.id, account.is_workspace)


async def act_as(session: AsyncSession, owner: KeyOwner, managed_user_id: str | None) -> Principal:
    """`x-publora-user-id` lets a workspace key act as one of its managed users (DESIGN §3.10)."""
    if not managed_user_id:
        return Principal(owner.account_id, owner.account_id, owner.is_workspace)
    if not owner.is_workspace:
        raise ForbiddenError("Workspace access not enabled", code="WORKSPACE_ACCESS_DISABLED")
    if not is_id(managed_user_id):
        raise ValidationError("Invalid x-publora-user-id", code="INVALID_USER_ID")
    user = await AccountStore(session).get_managed_user(owner.account_id, managed_user_id)
    if user is None:
        raise ForbiddenError("User is not managed by key", code="USER_NOT_MANAGED")
    return Principal(owner.account_id, user.id, owner.is_workspace)
