"""Storing OAuth tokens on a connection: the sealed credentials, when Herald renews them, and
the expiry the owner sees."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.platform import Platform
from herald.domain.timestamps import utc_now
from herald.models import Connection
from herald.oauth.providers import PROVIDERS, OAuthApp, Provider
from herald.oauth.token_endpoint import TokenSet
from herald.platforms.base import Profile
from herald.services.connection import save_connection
from herald.services.connection_inputs import ConnectionInput
from herald.services.secret_box import SecretBox
from herald.store.connection import ConnectionStore

# The background refresher renews a token this long before it expires (X's last two hours),
# or at three quarters of a shorter life.
REFRESH_AHEAD = timedelta(minutes=10)


def refresh_time(
    tokens: TokenSet, now: datetime, provider: Provider | None = None
) -> datetime | None:
    """When the engine renews these tokens; None when it cannot (no refresh token and no
    other way to renew) or need not (no expiry)."""
    renews = provider is not None and provider.renew is not None
    if (tokens.refresh_token is None and not renews) or tokens.expires_at is None:
        return None
    early = provider.renew_ahead if provider is not None else REFRESH_AHEAD
    ahead = min(early, max(tokens.expires_at - now, timedelta(0)) / 4)
    return tokens.expires_at - ahead


def effective_expiry(provider: Provider, tokens: TokenSet) -> datetime | None:
    """What the owner must act on before (Publora's accessTokenExpiresAt): nothing while Herald
    holds a refresh token that lasts, else the access token's own expiry."""
    if tokens.refresh_token is not None and provider.refresh_token_lasts:
        return None
    return tokens.expires_at


def store_tokens(
    connection: Connection, box: SecretBox, provider: Provider, tokens: TokenSet, now: datetime
) -> None:
    """New tokens on a connection: sealed, renewal planned, and a fresh warning owed."""
    connection.credentials = box.seal(tokens.credentials())
    connection.access_token_expires_at = effective_expiry(provider, tokens)
    connection.refresh_at = refresh_time(tokens, now, provider)
    connection.expiry_warned_at = None


def previous_tokens(connection: Connection | None, box: SecretBox) -> TokenSet | None:
    if connection is None or connection.credentials is None:
        return None
    try:
        return TokenSet.from_credentials(box.open(connection.credentials))
    except ValueError:  # sealed under a key no longer held: nothing to keep
        return None


async def save_oauth_connection(
    session: AsyncSession,
    box: SecretBox,
    account_id: str,
    app: OAuthApp,
    tokens: TokenSet,
    profile: Profile,
) -> Connection:
    """Create or update the connection in the caller's (short) transaction. Reconnecting keeps
    a refresh token the platform did not send again, and lifts a `needs_reauth` block."""
    existing = await ConnectionStore(session).find(
        account_id, app.platform.value, profile.external_id
    )
    tokens = tokens.keeping(previous_tokens(existing, box))
    request = ConnectionInput(
        app.platform, credentials=tokens.credentials(), options={"apiUrl": app.api_url}
    )
    saved = await save_connection(session, box, account_id, request, profile)
    store_tokens(saved, box, app.provider, tokens, utc_now())
    await session.flush()
    return saved


def is_oauth_connection(platform: str) -> bool:
    try:
        return Platform(platform) in PROVIDERS
    except ValueError:
        return False
