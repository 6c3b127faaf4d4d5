"""Connected social accounts: listing, adding and removing them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from herald.config import Settings
from herald.domain.platform import Platform, split_platform_id
from herald.errors import ConflictError, NotFoundError, UpstreamError, ValidationError
from herald.models import Account, Connection
from herald.net.egress import EGRESS_DENIED
from herald.net.http_client import (
    HttpClient,
)
from herald.platforms.base import AuthExpiredError, Profile, PublishError, RejectedError
from herald.platforms.registry import connector_for
from herald.platforms.sandbox.connector import new_sandbox_profile
from herald.services.connection_inputs import ConnectionInput, sandbox_input
from herald.services.secret_box import SecretBox
from herald.store.account import AccountStore
from herald.store.connection import ConnectionStore


def connection_not_found() -> NotFoundError:
    return NotFoundError("Platform connection not found", code="CONNECTION_NOT_FOUND")


async def list_connections(session: AsyncSession, account_id: str) -> Sequence[Connection]:
    return await ConnectionStore(session).list_for_account(account_id)


async def list_all_connections(session: AsyncSession) -> Sequence[tuple[Connection, Account]]:
    return await ConnectionStore(session).list_all()


# How long the platform may take to answer the credential check.
VERIFY_TIMEOUT_S = 20.0


async def verify_account(
    request: ConnectionInput, client: HttpClient, settings: Settings
) -> Profile:
    """Ask the platform whether the credentials work, before anything is stored. Runs outside
    any transaction: a slow platform must not hold the database. `client` carries the egress
    policy: an address it refuses is a 400 EGRESS_DENIED, the same whether anything listens."""
    if request.platform is Platform.SANDBOX and _own_sandbox(request, settings):
        # The embedded simulator may not be running yet (the CLI runs without the server).
        return new_sandbox_profile()
    connector = connector_for(request.platform)
    if connector is None:
        raise ValidationError(
            f"Platform {request.platform.value!r} cannot be connected yet",
            code="PLATFORM_NOT_SUPPORTED",
        )
    try:
        return await connector.verify(client, request.credentials, request.options)
    except AuthExpiredError as exc:
        raise ValidationError(exc.message, code="PLATFORM_CREDENTIALS_REJECTED") from None
    except RejectedError as exc:
        raise ValidationError(exc.message, code=exc.code) from None
    except PublishError as exc:
        raise UpstreamError(exc.message) from None


def _own_sandbox(request: ConnectionInput, settings: Settings) -> bool:
    """True when the connection publishes to Herald's own simulator. Any other simulator is
    another address for the engine to call, so it needs the operator's consent
    (HERALD_SANDBOX_ALLOW_ANY_URL) and then passes the egress policy like any platform."""
    base = request.options.get("baseUrl")
    if base is None or str(base).rstrip("/") == settings.resolved_sandbox_url.rstrip("/"):
        return True
    if settings.sandbox_allow_any_url:
        return False
    raise ValidationError(
        "A sandbox connection can only publish to Herald's own simulator: leave baseUrl out "
        "(the operator can allow others with HERALD_SANDBOX_ALLOW_ANY_URL)",
        code=EGRESS_DENIED,
    )


async def save_connection(
    session: AsyncSession,
    box: SecretBox,
    account_id: str,
    request: ConnectionInput,
    profile: Profile,
) -> Connection:
    """Store a verified connection. Connecting the same profile again replaces its credentials
    and profile and lifts a `needs_reauth` block, so its waiting posts go out."""
    if await AccountStore(session).get(account_id) is None:
        raise NotFoundError("Account not found", code="ACCOUNT_NOT_FOUND")
    store = ConnectionStore(session)
    platform = request.platform.value
    connection = await store.find(account_id, platform, profile.external_id)
    if connection is not None and _elsewhere(connection, request):
        raise ConflictError(
            f"Another {request.platform.value} account with id {profile.external_id} is "
            f"connected on {connection.options.get('instanceUrl')}; platform ids cannot tell "
            "the two apart, so remove that connection first",
            code="CONNECTION_EXISTS",
        )
    if connection is None:
        connection = Connection(account_id=account_id, platform=platform)
        connection.external_id = profile.external_id
        session.add(connection)
    connection.username = profile.username
    connection.display_name = profile.display_name
    connection.profile_image_url = profile.profile_image_url
    connection.profile_url = profile.profile_url
    connection.access_token_expires_at = profile.access_token_expires_at
    connection.options = {**request.options, **profile.options}
    connection.credentials = box.seal(dict(request.credentials))
    connection.status = "active"
    await session.flush()
    await store.lift_reauth_gate(connection.id)
    return connection


def _elsewhere(connection: Connection, request: ConnectionInput) -> bool:
    """Mastodon account ids are unique per instance only, and `mastodon-<id>` names no
    instance: the same id on another instance is another account, not a reconnection."""
    if request.platform is not Platform.MASTODON:
        return False
    stored = (connection.options or {}).get("instanceUrl")
    return stored is not None and stored != request.options.get("instanceUrl")


async def add_sandbox_connection(
    session: AsyncSession, box: SecretBox, account_id: str, options: dict[str, str] | None = None
) -> Connection:
    """The sandbox needs no verifying: a new installation gets one on first start, and tests
    make them freely."""
    request = sandbox_input(options)
    return await save_connection(session, box, account_id, request, new_sandbox_profile())


async def remove_connection(
    session: AsyncSession, public_id: str, account_id: str | None = None
) -> Connection:
    parts = split_platform_id(public_id)
    if parts is None:
        raise connection_not_found()
    store = ConnectionStore(session)
    if account_id is not None:
        connection = await store.find(account_id, parts[0].value, parts[1])
    else:
        connection = await store.find_any(parts[0].value, parts[1])
    if connection is None:
        raise connection_not_found()
    await store.delete(connection)
    return connection
