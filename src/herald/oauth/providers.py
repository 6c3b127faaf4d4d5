"""What each OAuth platform's authorization server looks like, and the app Herald has there.

A `Provider` holds the platform's facts (where its consent page and token endpoint live, which
scopes publishing needs, whether it takes PKCE, how a confidential client authenticates, what a
refresh token's life is). `oauth_app` pairs it with the operator's client id and secret from the
settings. Adding LinkedIn, Meta, Google or TikTok is one `Provider` here, its settings in
`config.py` and a line in `_APP_SETTINGS`; the connect routes and the token keeper are shared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from herald.config import Settings
from herald.domain.platform import Platform
from herald.errors import NotFoundError, ValidationError
from herald.net.http_client import HttpClient
from herald.oauth import meta_tokens
from herald.oauth.token_endpoint import TokenSet
from herald.platforms.meta.graph import GRAPH_VERSION

# A platform's own steps where it departs from plain OAuth 2.0 (Meta's; see meta_tokens).
Exchange = Callable[[HttpClient, "OAuthApp", str, str], Awaitable[TokenSet]]
Renew = Callable[[HttpClient, "OAuthApp", TokenSet], Awaitable[TokenSet]]
ListAccounts = Callable[[HttpClient, "OAuthApp", TokenSet], Awaitable[meta_tokens.Accounts]]


@dataclass(frozen=True)
class Provider:
    platform: Platform
    title: str  # as people call the platform in messages and pages
    scopes: tuple[str, ...]
    pkce: bool
    # "basic": HTTP Basic with client id and secret (RFC 6749 §2.3.1), what X asks of
    # confidential clients; "body": both as form fields. A client without a secret sends its
    # id in the body either way (a public client).
    client_auth: Literal["basic", "body"]
    # True when a refresh token lives until revoked or used (X rotates it on each use): such a
    # connection has no expiry the owner needs to act on.
    refresh_token_lasts: bool
    authorize_path: str = ""  # appended to the authorize base from the settings
    token_path: str = ""  # appended to the API base from the settings
    revoke_path: str | None = None
    # Errors with which the token endpoint refuses a refresh token for good (revoked, spent,
    # expired): the owner must connect again. Anything else is tried again later.
    grant_gone: frozenset[str] = frozenset({"invalid_grant"})
    scope_separator: str = " "
    client_id_param: str = "client_id"
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    # "api": the token endpoint is on the API host (X); "authorize": on the consent page's
    # host (LinkedIn's www.linkedin.com/oauth/v2/accessToken).
    exchange_host: Literal["api", "authorize"] = "api"
    # How long before an unrenewable credential runs out its owner hears `token.expiring`;
    # None: the common week (herald.oauth.warnings.WARN_AHEAD).
    warn_ahead: timedelta | None = None
    # Scopes asked for when the app may post for company pages too; granted, each page the
    # member administers becomes a connection of its own.
    page_scopes: tuple[str, ...] = ()
    # The code exchange, when it is not RFC 6749's POST (Facebook's GET, then long-lived).
    exchange: Exchange | None = None
    # Renewal without a refresh token (Threads renews a long-lived token with itself), and
    # how long before the token's expiry it is done.
    renew: Renew | None = None
    renew_ahead: timedelta = timedelta(minutes=10)
    # The connections one login yields (each Facebook Page, each linked Instagram account):
    # their tokens and the options their connector verifies with. None: the login's own.
    accounts: ListAccounts | None = None


X = Provider(
    platform=Platform.TWITTER,
    title="X",
    # offline.access: a refresh token; media.write: the v2 media upload.
    scopes=("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"),
    pkce=True,
    client_auth="basic",
    refresh_token_lasts=True,
    token_path="/2/oauth2/token",  # noqa: S106 - a path, not a secret
    revoke_path="/2/oauth2/revoke",
    # X answers a spent or revoked refresh token with 400 invalid_request "Value passed for
    # the token was invalid." rather than RFC 6749's invalid_grant.
    grant_gone=frozenset({"invalid_grant", "invalid_request"}),
)

# LinkedIn: 60-day access tokens and, for most apps, no refresh token (programmatic refresh is
# for approved partners): the owner reconnects, warned ten days ahead.
# https://learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow
LINKEDIN = Provider(
    platform=Platform.LINKEDIN,
    title="LinkedIn",
    scopes=("openid", "profile", "w_member_social"),
    pkce=False,  # LinkedIn's web flow takes a client secret, not PKCE
    client_auth="body",
    refresh_token_lasts=False,
    authorize_path="/oauth/v2/authorization",
    token_path="/oauth/v2/accessToken",  # noqa: S106 - a path, not a secret
    exchange_host="authorize",
    warn_ahead=timedelta(days=10),
    page_scopes=("w_organization_social", "r_organization_admin"),
)

# Facebook Login for Business: the Pages a user manages, each a connection with a Page token.
_GRAPH_LOGIN = {
    "pkce": False,
    "client_auth": "body",
    "refresh_token_lasts": True,  # Page tokens from a long-lived user token do not expire
    "authorize_path": f"/{GRAPH_VERSION}/dialog/oauth",
    "token_path": f"/{GRAPH_VERSION}/oauth/access_token",
    "scope_separator": ",",
    "exchange": meta_tokens.graph_exchange,
}
FACEBOOK = Provider(
    platform=Platform.FACEBOOK,
    title="Facebook",
    scopes=(
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "business_management",
    ),
    accounts=meta_tokens.facebook_pages,
    **_GRAPH_LOGIN,  # type: ignore[arg-type]
)
# Instagram professional accounts linked to those Pages, through the same Facebook Login (the
# README says why not Instagram Login).
INSTAGRAM = Provider(
    platform=Platform.INSTAGRAM,
    title="Instagram",
    scopes=(
        "instagram_basic",
        "instagram_content_publish",
        "pages_show_list",
        "pages_read_engagement",
        "business_management",
    ),
    accounts=meta_tokens.instagram_accounts,
    **_GRAPH_LOGIN,  # type: ignore[arg-type]
)
THREADS = Provider(
    platform=Platform.THREADS,
    title="Threads",
    # threads_manage_replies: a long post becomes a reply chain (Publora's threading rules).
    scopes=("threads_basic", "threads_content_publish", "threads_manage_replies"),
    pkce=False,
    client_auth="body",
    refresh_token_lasts=False,
    authorize_path="/oauth/authorize",
    token_path="/oauth/access_token",  # noqa: S106 - a path, not a secret
    scope_separator=",",
    exchange=meta_tokens.threads_exchange,
    renew=meta_tokens.threads_renew,
    renew_ahead=timedelta(days=7),
)

# Google's OAuth 2.0 for web server apps, for YouTube. access_type=offline gives a refresh
# token and prompt=consent gives one again on a reconnect; Google's refresh tokens do not
# rotate and live until revoked (7 days while the consent screen is in "Testing").
YOUTUBE = Provider(
    platform=Platform.YOUTUBE,
    title="YouTube",
    # youtube.upload: videos.insert and thumbnails.set; youtube: playlistItems.insert.
    scopes=(
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube",
    ),
    pkce=True,
    client_auth="body",
    refresh_token_lasts=True,
    authorize_path="/o/oauth2/v2/auth",
    # Google's token endpoint under the API host (oauth2.googleapis.com/token answers alike).
    token_path="/oauth2/v4/token",  # noqa: S106 - a path, not a secret
    extra_authorize_params={
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
    },
)

# TikTok Login Kit for web: client_key instead of client_id, comma-separated scopes, access
# tokens for 24 h and refresh tokens for 365 days (so a connection does expire).
TIKTOK = Provider(
    platform=Platform.TIKTOK,
    title="TikTok",
    # user.info.basic: the profile; video.publish: Direct Post; video.upload: drafts.
    scopes=("user.info.basic", "video.publish", "video.upload"),
    pkce=False,  # required of desktop and mobile apps, not of web apps [docs]
    client_auth="body",
    refresh_token_lasts=False,
    authorize_path="/v2/auth/authorize/",
    token_path="/v2/oauth/token/",  # noqa: S106 - a path, not a secret
    revoke_path="/v2/oauth/revoke/",
    scope_separator=",",
    client_id_param="client_key",
)

PROVIDERS: dict[Platform, Provider] = {
    provider.platform: provider
    for provider in (X, LINKEDIN, FACEBOOK, INSTAGRAM, THREADS, YOUTUBE, TIKTOK)
}
# Names the command line and the settings accept for a platform, besides its wire name.
ALIASES = {"x": Platform.TWITTER}


@dataclass(frozen=True)
class OAuthApp:
    """A provider with the endpoints and client this installation uses for it."""

    provider: Provider
    client_id: str
    client_secret: str | None
    authorize_url: str
    token_url: str
    revoke_url: str | None
    api_url: str  # the platform's API base, stored with each connection's options
    scopes: tuple[str, ...] = ()  # what the consent page asks for

    @property
    def asks_for_pages(self) -> bool:
        return bool(self.provider.page_scopes) and set(self.provider.page_scopes) <= set(
            self.scopes
        )

    @property
    def platform(self) -> Platform:
        return self.provider.platform


def _x_app(settings: Settings) -> tuple[str | None, str | None, str, str]:
    secret = settings.x_client_secret.get_secret_value() if settings.x_client_secret else None
    return settings.x_client_id, secret, settings.x_authorize_url, settings.x_api_url


def _linkedin_app(settings: Settings) -> tuple[str | None, str | None, str, str]:
    secret = settings.linkedin_client_secret
    return (
        settings.linkedin_client_id,
        secret.get_secret_value() if secret else None,
        settings.linkedin_auth_url.rstrip("/"),
        settings.linkedin_api_url,
    )


def _meta_app(settings: Settings) -> tuple[str | None, str | None, str, str]:
    secret = settings.meta_client_secret
    return (
        settings.meta_client_id,
        secret.get_secret_value() if secret else None,
        settings.meta_authorize_url,
        settings.meta_api_url,
    )


def _threads_app(settings: Settings) -> tuple[str | None, str | None, str, str]:
    secret = settings.threads_client_secret
    return (
        settings.threads_client_id,
        secret.get_secret_value() if secret else None,
        settings.threads_authorize_url,
        settings.threads_api_url,
    )


def _youtube_app(settings: Settings) -> tuple[str | None, str | None, str, str]:
    secret = settings.youtube_client_secret
    return (
        settings.youtube_client_id,
        secret.get_secret_value() if secret else None,
        settings.youtube_authorize_url,
        settings.youtube_api_url,
    )


def _tiktok_app(settings: Settings) -> tuple[str | None, str | None, str, str]:
    secret = settings.tiktok_client_secret
    return (
        settings.tiktok_client_key,
        secret.get_secret_value() if secret else None,
        settings.tiktok_authorize_url,
        settings.tiktok_api_url,
    )


# Per platform: (client id, client secret, authorize URL, API base) from the settings, and the
# prefix of its settings, for the message that says what to set.
_APP_SETTINGS: dict[
    Platform, tuple[Callable[[Settings], tuple[str | None, str | None, str, str]], str]
] = {
    Platform.TWITTER: (_x_app, "HERALD_X"),
    Platform.LINKEDIN: (_linkedin_app, "HERALD_LINKEDIN"),
    Platform.FACEBOOK: (_meta_app, "HERALD_META"),
    Platform.INSTAGRAM: (_meta_app, "HERALD_META"),
    Platform.THREADS: (_threads_app, "HERALD_THREADS"),
    Platform.YOUTUBE: (_youtube_app, "HERALD_YOUTUBE"),
    Platform.TIKTOK: (_tiktok_app, "HERALD_TIKTOK"),
}


def oauth_platform(name: str) -> Platform | None:
    """The platform a name means (`twitter` or its alias `x`) if it connects through OAuth."""
    platform = ALIASES.get(name.lower())
    if platform is None:
        try:
            platform = Platform(name.lower())
        except ValueError:
            return None
    return platform if platform in PROVIDERS else None


def is_oauth_platform(name: str) -> bool:
    return oauth_platform(name) is not None


class NotConfiguredError(ValidationError):
    code = "PLATFORM_NOT_CONFIGURED"


def oauth_app(name: str, settings: Settings) -> OAuthApp:
    """The app to connect `name` with; NotConfiguredError names the settings to set when the
    operator has not registered one, NotFoundError when the name is no OAuth platform."""
    platform = oauth_platform(name)
    if platform is None:
        raise NotFoundError(f"{name!r} is not a platform connected through OAuth")
    provider = PROVIDERS[platform]
    read, prefix = _APP_SETTINGS[platform]
    client_id, secret, authorize, api = read(settings)
    if not client_id:
        # The setting is named as the platform names the app's id (TikTok: client key).
        id_setting = f"{prefix}_{provider.client_id_param.upper()}"
        raise NotConfiguredError(
            f"{provider.title} cannot be connected: this Herald has no {provider.title} app. "
            f"The operator sets {id_setting} (and {prefix}_CLIENT_SECRET) from the app's "
            f"page in the developer portal, with {redirect_uri(settings, platform)} as its "
            "callback URL (see the README)"
        )
    api = api.rstrip("/")
    token_base = authorize if provider.exchange_host == "authorize" else api
    return OAuthApp(
        provider=provider,
        client_id=client_id,
        client_secret=secret or None,
        authorize_url=authorize + provider.authorize_path,
        token_url=token_base + provider.token_path,
        revoke_url=api + provider.revoke_path if provider.revoke_path else None,
        api_url=api,
        scopes=provider.scopes + _page_scopes(provider, settings),
    )


def _page_scopes(provider: Provider, settings: Settings) -> tuple[str, ...]:
    if provider.platform is Platform.LINKEDIN and settings.linkedin_company_pages:
        return provider.page_scopes
    return ()


def redirect_uri(settings: Settings, platform: Platform) -> str:
    """Where the platform sends the browser back: one per platform, under the public URL."""
    return f"{settings.resolved_public_url}/connect/{platform.value}/callback"
