"""Which connector publishes to which platform."""

from __future__ import annotations

from herald.domain.platform import Platform
from herald.platforms.base import Connector
from herald.platforms.bluesky.connector import BlueskyConnector
from herald.platforms.mastodon.connector import MastodonConnector
from herald.platforms.sandbox.connector import SandboxConnector
from herald.platforms.telegram.connector import TelegramConnector

# One instance per platform and process: connectors keep per-account state worth sharing, such
# as Bluesky sessions (createSession is limited to 30 per 5 minutes).
CONNECTORS: dict[Platform, Connector] = {
    Platform.SANDBOX: SandboxConnector(),
    Platform.BLUESKY: BlueskyConnector(),
    Platform.MASTODON: MastodonConnector(),
    Platform.TELEGRAM: TelegramConnector(),
}


def connector_for(platform: Platform) -> Connector | None:
    return CONNECTORS.get(platform)
