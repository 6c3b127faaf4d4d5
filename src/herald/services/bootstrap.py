"""First start: an empty installation gets an account, an API key and a sandbox connection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import utc_now
from herald.services.account import create_account, issue_api_key
from herald.services.connection import add_sandbox_connection
from herald.services.dashboard_auth import issue_sign_in_link
from herald.services.secret_box import SecretBox
from herald.store.account import AccountStore


@dataclass(frozen=True)
class Bootstrap:
    account_id: str
    api_key: str
    platform_id: str
    sign_in_token: str  # the dashboard's one-time sign-in link, printed with the key


async def bootstrap_if_empty(session: AsyncSession, box: SecretBox) -> Bootstrap | None:
    """Returns what was created, or None when the installation already has accounts."""
    if await AccountStore(session).count() > 0:
        return None
    # A workspace, so managed users work out of the box on a self-hosted install.
    account = await create_account(session, "Herald", workspace=True)
    key, _ = await issue_api_key(session, account.id)
    connection = await add_sandbox_connection(session, box, account.id)
    link = await issue_sign_in_link(session, account.id, utc_now())
    return Bootstrap(account.id, key, platform_id(Platform.SANDBOX, connection.external_id), link)
