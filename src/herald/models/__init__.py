"""ORM classes, one module per aggregate; importing this package registers them all."""

from herald.models.account import Account
from herald.models.api_key import ApiKey
from herald.models.connection import Connection
from herald.models.connection_gate import ConnectionGate
from herald.models.idempotency import IdempotencyRecord
from herald.models.media import Media
from herald.models.oauth_state import OAuthState
from herald.models.post import PostGroup, PublishAttempt, PublishTarget
from herald.models.rate_limit import MediaUrlWindow, RateLimitWindow
from herald.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "Account",
    "ApiKey",
    "Connection",
    "ConnectionGate",
    "IdempotencyRecord",
    "Media",
    "MediaUrlWindow",
    "OAuthState",
    "PostGroup",
    "PublishAttempt",
    "PublishTarget",
    "RateLimitWindow",
    "Webhook",
    "WebhookDelivery",
]
