"""The connect flow: a link starts it, the platform's consent page approves it, the callback
stores the connection.

    connect_link  ->  GET /connect/<platform>?link=…   (start: state row, redirect to consent)
                  ->  platform consent page
                  ->  GET /connect/<platform>/callback  (finish: take state, exchange code,
                                                         read profile, store in one transaction)

Every way to fail ends in a `ConnectError` whose `kind` the page turns into what happened and
what to do; nothing is stored by a failed callback (its state is spent, so it cannot be replayed).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db.engine import unit_of_work
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import utc_now
from herald.errors import NotFoundError
from herald.keys import derived_keys
from herald.models import Connection, OAuthState
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.oauth import signed
from herald.oauth.lifecycle import save_oauth_connection
from herald.oauth.pkce import new_verifier, s256_challenge
from herald.oauth.providers import OAuthApp, oauth_app, redirect_uri
from herald.oauth.token_endpoint import OAuthError, TokenSet, exchange_code
from herald.platforms.base import Profile, PublishError
from herald.platforms.registry import connector_for, page_lister_for
from herald.services.secret_box import SecretBox
from herald.store.account import AccountStore
from herald.store.oauth_state import OAuthStateStore

_LINK_PURPOSE = "herald connect links"
_STATE_PURPOSE = "herald oauth state"
# Code exchange and profile read together; a platform slower than this is reported as down.
EXCHANGE_TIMEOUT_S = 20.0

FailureKind = Literal[
    "bad_link",
    "link_expired",
    "denied",
    "refused",
    "bad_state",
    "state_expired",
    "replayed",
    "exchange",
    "profile",
    "unavailable",
]


class ConnectError(Exception):
    """Why a connection did not happen; `detail` is safe to show (never a token or code)."""

    def __init__(self, kind: FailureKind, platform: Platform, detail: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.platform = platform
        self.detail = detail


@dataclass(frozen=True)
class ConnectLink:
    url: str
    expires_at: datetime


def connect_link(
    account_id: str,
    platform: str,
    settings: Settings,
    *,
    expires_in: timedelta | None = None,
    now: datetime | None = None,
) -> ConnectLink:
    """A link that starts connecting `platform` for `account_id` when opened in a browser:
    what the command line prints and the API answers. It is signed (no one can make one for
    another account), works until it expires, and names no secret. Raises
    NotConfiguredError when the platform has no app in the settings."""
    app = oauth_app(platform, settings)
    lifetime = expires_in or timedelta(seconds=settings.oauth_link_seconds)
    expires_at = (now or utc_now()) + lifetime
    token = signed.sign(
        _keys(settings, _LINK_PURPOSE), [account_id, app.platform.value], expires_at
    )
    url = (
        f"{settings.resolved_public_url}/connect/{app.platform.value}?{urlencode({'link': token})}"
    )
    return ConnectLink(url, expires_at)


def read_link(token: str, platform: Platform, settings: Settings) -> str:
    """The account a connect link was made for; ConnectError when it is not a genuine,
    current link for this platform."""
    try:
        account_id, linked = signed.verify(_keys(settings, _LINK_PURPOSE), token)
    except signed.ExpiredTokenError:
        raise ConnectError("link_expired", platform) from None
    except (signed.BadTokenError, ValueError):
        raise ConnectError("bad_link", platform) from None
    if linked != platform.value:
        raise ConnectError("bad_link", platform)
    return account_id


async def start(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    settings: Settings,
    account_id: str,
    platform: str,
) -> str:
    """Record a state for `account_id` and return the platform's consent page URL to send the
    browser to. The state is signed and expires; its row makes it single-use and keeps the
    PKCE verifier (sealed) on Herald's side."""
    app = oauth_app(platform, settings)
    nonce = secrets.token_urlsafe(24)
    verifier = new_verifier() if app.provider.pkce else None
    expires_at = utc_now() + timedelta(seconds=settings.oauth_state_seconds)
    sealed = box.seal({"verifier": verifier}) if verifier is not None else None
    async with unit_of_work(sessions) as session:
        if await AccountStore(session).get(account_id) is None:
            raise NotFoundError("Account not found", code="ACCOUNT_NOT_FOUND")
        await OAuthStateStore(session).add(
            OAuthState(
                nonce=nonce,
                account_id=account_id,
                platform=app.platform.value,
                sealed_verifier=sealed,
                expires_at=expires_at,
            )
        )
    state = signed.sign(_keys(settings, _STATE_PURPOSE), [nonce, app.platform.value], expires_at)
    return authorize_url(app, redirect_uri(settings, app.platform), state, verifier)


def authorize_url(app: OAuthApp, redirect: str, state: str, verifier: str | None) -> str:
    params = {
        "response_type": "code",
        app.provider.client_id_param: app.client_id,
        "redirect_uri": redirect,
        "scope": app.provider.scope_separator.join(app.scopes),
        "state": state,
        **app.provider.extra_authorize_params,
    }
    if verifier is not None:
        params |= {"code_challenge": s256_challenge(verifier), "code_challenge_method": "S256"}
    return f"{app.authorize_url}?{urlencode(params)}"


@dataclass(frozen=True)
class Connected:
    account_id: str
    platform_id: str
    username: str
    connection: Connection


async def finish(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    settings: Settings,
    platform: str,
    params: Mapping[str, str],
) -> Connected:
    """The callback: check and spend the state, then exchange, read the profile and store."""
    app = oauth_app(platform, settings)
    pending = await _take_state(sessions, settings, app.platform, params.get("state", ""))
    error = params.get("error")
    if error:
        kind: FailureKind = "denied" if error == "access_denied" else "refused"
        raise ConnectError(kind, app.platform, _shown(params.get("error_description", error)))
    code = params.get("code")
    if not code:
        raise ConnectError("refused", app.platform, "the platform sent no authorization code")
    verifier = box.open(pending.sealed_verifier)["verifier"] if pending.sealed_verifier else None
    found = await _exchange_and_read(settings, app, code, verifier)
    async with unit_of_work(sessions) as session:
        # One login may bring several connections (Meta: each Page and linked account;
        # LinkedIn: the member, then each company page they administer); the first is shown.
        saved = [
            await save_oauth_connection(session, box, pending.account_id, app, tokens, profile)
            for tokens, profile in found
        ]
        first = saved[0]
        public_id = platform_id(app.platform, first.external_id)
        return Connected(pending.account_id, public_id, first.username, first)


async def _take_state(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, platform: Platform, state: str
) -> OAuthState:
    try:
        nonce, stated = signed.verify(_keys(settings, _STATE_PURPOSE), state)
    except signed.ExpiredTokenError:
        raise ConnectError("state_expired", platform) from None
    except (signed.BadTokenError, ValueError):
        raise ConnectError("bad_state", platform) from None
    if stated != platform.value:
        raise ConnectError("bad_state", platform)
    async with unit_of_work(sessions) as session:
        pending = await OAuthStateStore(session).take(nonce, utc_now())
    if pending is None:
        raise ConnectError("replayed", platform)
    return pending


async def _exchange_and_read(
    settings: Settings, app: OAuthApp, code: str, verifier: str | None
) -> list[tuple[TokenSet, Profile]]:
    """The calls outside any transaction: a slow platform must not hold the database."""
    connector = connector_for(app.platform)
    if connector is None:
        raise ConnectError("unavailable", app.platform)
    redirect = redirect_uri(settings, app.platform)
    provider = app.provider
    async with one_off_client(EgressPolicy.from_settings(settings), EXCHANGE_TIMEOUT_S) as client:
        try:
            if provider.exchange is not None:
                tokens = await provider.exchange(client, app, code, redirect)
            else:
                tokens = await exchange_code(client, app, code, redirect, verifier)
            accounts = (
                await provider.accounts(client, app, tokens)
                if provider.accounts is not None
                else [(tokens, {})]
            )
        except OAuthError as exc:
            raise ConnectError("exchange", app.platform, _oauth_detail(exc)) from None
        if not accounts:
            detail = f"the login gave no {provider.title} account Herald can publish to"
            raise ConnectError("profile", app.platform, detail)
        found = []
        try:
            for account_tokens, options in accounts:
                profile = await connector.verify(
                    client, account_tokens.credentials(), {"apiUrl": app.api_url, **options}
                )
                found.append((account_tokens, profile))
            lister = page_lister_for(app.platform)
            if lister is not None and app.asks_for_pages and _granted_pages(app, tokens):
                pages = await lister.administered_pages(
                    client, tokens.credentials(), {"apiUrl": app.api_url}
                )
                found += [(tokens, page) for page in pages]
        except PublishError as exc:
            raise ConnectError("profile", app.platform, _shown(exc.message)) from None
    return found


def _granted_pages(app: OAuthApp, tokens: TokenSet) -> bool:
    """The member may untick a scope on the consent page: pages only when all were granted
    (LinkedIn lists scopes with commas, RFC 6749 with spaces)."""
    granted = set(tokens.scope.replace(",", " ").split())
    return set(app.provider.page_scopes) <= granted


def _oauth_detail(exc: OAuthError) -> str:
    if exc.error == "unreachable":
        return f"the token endpoint could not be reached ({exc.description})"
    return _shown(f"{exc.error}: {exc.description}" if exc.description else exc.error)


def _shown(text: str) -> str:
    return " ".join(text.split())[:200]


def _keys(settings: Settings, purpose: str) -> tuple[bytes, ...]:
    return derived_keys(settings, purpose)
