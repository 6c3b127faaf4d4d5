"""ORM classes, one module per aggregate; importing this package registers them all."""

from herald.models.account import Account
from herald.models.analytics_cache import AnalyticsCacheEntry
from herald.models.api_key import ApiKey
from herald.models.connection import Connection
from herald.models.connection_gate import ConnectionGate
from herald.models.connections_page import ConnectionsPage
from herald.models.dashboard_token import DashboardToken
from herald.models.group_status_due import GroupStatusDue
from herald.models.idempotency import IdempotencyRecord
from herald.models.media import Media
from herald.models.oauth_state import OAuthState
from herald.models.post import PostGroup, PublishAttempt, PublishTarget
from herald.models.post_artwork import PostArtwork
from herald.models.post_tally import PostCrossTally, PostTally, PostWeekTally
from herald.models.rate_limit import MediaUrlWindow, RateLimitWindow
from herald.models.upload_session import UploadSession
from herald.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "Account",
    "AnalyticsCacheEntry",
    "ApiKey",
    "Connection",
    "ConnectionGate",
    "ConnectionsPage",
    "DashboardToken",
    "GroupStatusDue",
    "IdempotencyRecord",
    "Media",
    "MediaUrlWindow",
    "OAuthState",
    "PostArtwork",
    "PostCrossTally",
    "PostGroup",
    "PostTally",
    "PostWeekTally",
    "PublishAttempt",
    "PublishTarget",
    "RateLimitWindow",
    "UploadSession",
    "Webhook",
    "WebhookDelivery",
]
