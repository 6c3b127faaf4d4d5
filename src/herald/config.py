"""Settings: the one place that reads HERALD_* environment variables."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Herald's configuration; every field maps to an HERALD_<NAME> variable or a `.env` line."""

    model_config = SettingsConfigDict(
        env_prefix="HERALD_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    data_dir: Path = Path("herald-data")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default is SQLite in the data directory.",
    )
    host: str = "127.0.0.1"
    port: int = 8080
    secret_key: str | None = Field(
        default=None,
        description="Fernet keys for platform credentials, comma-separated: the first seals, "
        "all open. Unset: the keys come from the key file.",
    )
    secret_key_file: Path | None = Field(
        default=None,
        description="File of Fernet keys, one a line, the first sealing; default "
        "`<data dir>-keys/secret.key` beside the data dir (generated on first start), so that "
        "a backup of the data dir does not hold the key to its credentials.",
    )
    rate_limit_per_minute: int = Field(default=1200, ge=0)
    strict_scheduled_time: bool = Field(
        default=True,
        description="create-post refuses a scheduledTime 5 minutes or more in the past (400 "
        "SCHEDULED_TIME_IN_PAST), as Publora's strict mode does; false moves any past time to "
        "now with a SCHEDULED_TIME_COERCED warning.",
    )
    max_json_body_bytes: int = 1024 * 1024
    log_level: str = "info"

    # Publishing engine (DESIGN §4). Throughput is about concurrency / platform latency.
    engine_concurrency: int = Field(default=500, ge=1)
    # Most targets one claim takes: a burst claimed in fewer, larger statements starts sooner
    # (2,000 posts due at once: p99 start 1.33 s at 500, 0.36 s at 2,000; bench/README.md).
    engine_claim_batch: int = Field(default=2000, ge=1)
    engine_lease_seconds: float = Field(default=60.0, gt=0)
    engine_http_timeout_seconds: float = Field(default=30.0, gt=0)
    engine_host_initial_limit: int = Field(
        default=4,
        ge=1,
        description="Calls one worker lets run at once against a platform host it has not "
        "measured yet; each host's limit then adapts to its latency and failures, between 1 "
        "and engine_concurrency.",
    )
    engine_rescue_interval_seconds: float = Field(default=10.0, gt=0)
    engine_reconcile_interval_seconds: float = Field(default=15.0, gt=0)
    engine_settle_seconds: float = Field(
        default=5.0, ge=0, description="How long an in-doubt target waits before reconciling."
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_base_seconds: float = Field(
        default=30.0,
        gt=0,
        description="First wait before a failed webhook delivery is sent again; it doubles "
        "per attempt up to an hour, for 24 hours after the event.",
    )
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    engine_unsafe_blind_retry: bool = Field(
        default=False,
        description="Re-send in-doubt posts with a new key. Only for the chaos benchmark's "
        "negative control: it creates duplicates by design.",
    )
    sandbox_url: str | None = Field(
        default=None,
        description="Sandbox simulator base URL; default: the one `serve` mounts at /sim/sandbox.",
    )
    sandbox_allow_any_url: bool = Field(
        default=False,
        description="Let a sandbox connection name any baseUrl the egress policy allows; by "
        "default it can only publish to the sandbox simulator above.",
    )
    sandbox_control: bool = Field(
        default=False,
        description="Serve the mounted sandbox simulator's /_sim/ routes, which list every "
        "tenant's sandbox posts and inject faults for everyone: for tests and demos only.",
    )

    # Egress (net/egress.py): where Herald may connect when a tenant supplies the address.
    egress_allow: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = Field(
        default=(),
        description="Networks beyond the public internet that outbound calls may reach, as "
        "comma-separated CIDRs (127.0.0.0/8,10.0.0.0/8); by default loopback, private, "
        "link-local and every other non-public address is refused.",
    )

    # Media (DESIGN §6): files on local disk under the data dir, or in an S3-compatible store.
    public_url: str | None = Field(
        default=None,
        description="Base URL clients reach Herald at, for local upload and file URLs; "
        "default http://HOST:PORT.",
    )
    media_backend: Literal["local", "s3"] = "local"
    # Meta (Facebook, Instagram, Threads) fetches media from their URL: a URL on a private
    # address fails with MEDIA_NOT_PUBLIC unless the operator says Meta's side reaches it.
    media_reachable_networks: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = Field(
        default=(),
        description="Networks beyond the public internet from which platforms that fetch media "
        "by URL (Facebook, Instagram, Threads) reach Herald's media URLs, as comma-separated "
        "CIDRs; only for dry runs against a simulator on this network (127.0.0.0/8).",
    )
    s3_bucket: str = "herald-media"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_public_url: str | None = Field(
        default=None, description="Public base URL of the bucket's files (e.g. a CDN)."
    )
    media_max_upload_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    media_wait_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How long a due post waits for unfinished uploads before failing.",
    )

    # OAuth apps (herald.oauth): one client id and secret per platform, from its developer
    # portal; a platform without a client id cannot be connected (and says so). Every redirect
    # URI is <public URL>/connect/<platform>/callback.
    x_client_id: str | None = Field(
        default=None, description="X (Twitter) OAuth 2.0 client id, from the X developer portal."
    )
    x_client_secret: SecretStr | None = Field(
        default=None,
        description="X OAuth 2.0 client secret (confidential apps); unset: a public client.",
    )
    x_api_url: str = Field(
        default="https://api.x.com",
        description="X API base: token, profile and posting calls (a simulator's in tests).",
    )
    x_authorize_url: str = Field(
        default="https://x.com/i/oauth2/authorize",
        description="X's consent page, where the browser is sent to approve the app.",
    )
    # LinkedIn (herald.oauth, herald.platforms.linkedin): an app from developer.linkedin.com with
    # the products "Sign In with LinkedIn using OpenID Connect" and "Share on LinkedIn" (plus
    # "Community Management API" for company pages).
    linkedin_client_id: str | None = Field(
        default=None, description="LinkedIn app client id, from the app's Auth tab."
    )
    linkedin_client_secret: SecretStr | None = Field(
        default=None, description="LinkedIn app primary client secret."
    )
    linkedin_api_url: str = Field(
        default="https://api.linkedin.com",
        description="LinkedIn API base: userinfo, posts and media (a simulator's in tests).",
    )
    linkedin_auth_url: str = Field(
        default="https://www.linkedin.com",
        description="LinkedIn's OAuth host: /oauth/v2/authorization and /oauth/v2/accessToken.",
    )
    linkedin_company_pages: bool = Field(
        default=False,
        description="Also ask for w_organization_social (Community Management API, granted "
        "after LinkedIn's review): each company page the member administers is connected too.",
    )
    linkedin_version: str = Field(
        default="202610",
        pattern=r"^20[0-9]{2}(0[1-9]|1[0-2])$",
        description="LinkedIn-Version header (YYYYMM). LinkedIn sunsets a version after about a "
        "year: raise it when LinkedIn answers that the version is no longer supported.",
    )
    # Meta: one app (Facebook Login for Business) connects Facebook Pages and the Instagram
    # professional accounts linked to them; Threads has an app id and secret of its own.
    meta_client_id: str | None = Field(
        default=None, description="Meta app id (App settings > Basic), for Facebook and Instagram."
    )
    meta_client_secret: SecretStr | None = Field(default=None, description="Meta app secret.")
    meta_api_url: str = Field(
        default="https://graph.facebook.com",
        description="Graph API base for Facebook and Instagram (a simulator's in tests).",
    )
    meta_authorize_url: str = Field(
        default="https://www.facebook.com",
        description="Where Facebook Login's dialog lives (/<version>/dialog/oauth is added).",
    )
    threads_client_id: str | None = Field(
        default=None, description="Threads app id (Use cases > Access the Threads API > Settings)."
    )
    threads_client_secret: SecretStr | None = Field(default=None, description="Threads app secret.")
    threads_api_url: str = Field(
        default="https://graph.threads.net",
        description="Threads API base (a simulator's in tests).",
    )
    threads_authorize_url: str = Field(
        default="https://threads.net",
        description="Where the Threads consent page lives (/oauth/authorize is added).",
    )
    # Google (YouTube): an OAuth client of type "Web application" in the Google Cloud console.
    youtube_client_id: str | None = Field(
        default=None, description="Google OAuth client id (YouTube), from the Cloud console."
    )
    youtube_client_secret: SecretStr | None = Field(
        default=None, description="Google OAuth client secret (YouTube)."
    )
    youtube_api_url: str = Field(
        default="https://www.googleapis.com",
        description="Google API base: token, channel and upload calls (a simulator's in tests).",
    )
    youtube_authorize_url: str = Field(
        default="https://accounts.google.com",
        description="Google's sign-in host; the consent page is /o/oauth2/v2/auth under it.",
    )
    # TikTok: an app in TikTok for Developers with Login Kit and the Content Posting API.
    tiktok_client_key: str | None = Field(
        default=None, description="TikTok app client key (Login Kit), from TikTok for Developers."
    )
    tiktok_client_secret: SecretStr | None = Field(
        default=None, description="TikTok app client secret."
    )
    tiktok_api_url: str = Field(
        default="https://open.tiktokapis.com",
        description="TikTok API base: token, user info and posting calls (a simulator's in tests).",
    )
    tiktok_authorize_url: str = Field(
        default="https://www.tiktok.com",
        description="TikTok's web host; the consent page is /v2/auth/authorize/ under it.",
    )
    oauth_state_seconds: float = Field(
        default=600.0, gt=0, description="How long a started connection may take to come back."
    )
    oauth_link_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How long a connect link printed by the command line or the API works.",
    )
    oauth_refresh_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the engine looks for tokens to refresh."
    )

    @field_validator("egress_allow", "media_reachable_networks", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_sandbox_url(self) -> str:
        return self.sandbox_url or f"http://{self.host}:{self.port}/sim/sandbox"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'herald.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
