"""Which connector publishes to which platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms._http import refused_by_policy
from herald.platforms.base import Connector, Profile, Published, PublishRequest
from herald.platforms.bluesky.connector import BlueskyConnector
from herald.platforms.mastodon.connector import MastodonConnector
from herald.platforms.sandbox.connector import SandboxConnector
from herald.platforms.telegram.connector import TelegramConnector
from herald.platforms.x.connector import XConnector


class PolicyRefusals:
    """A connector whose calls answer the egress policy's refusal as RejectedError with its
    code, as the taxonomy says: connectors themselves never see the policy."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self.platform = connector.platform
        self.capabilities = connector.capabilities

    async def verify(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Profile:
        with refused_by_policy():
            return await self._connector.verify(client, credentials, options)

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        with refused_by_policy():
            return await self._connector.publish(client, request, idempotency_key)

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        with refused_by_policy():
            return await self._connector.lookup(client, request, idempotency_key)


# One instance per platform and process: connectors keep per-account state worth sharing, such
# as Bluesky sessions (createSession is limited to 30 per 5 minutes).
CONNECTORS: dict[Platform, Connector] = {
    connector.platform: PolicyRefusals(connector)
    for connector in (
        SandboxConnector(),
        BlueskyConnector(),
        MastodonConnector(),
        TelegramConnector(),
        XConnector(),
    )
}


def connector_for(platform: Platform) -> Connector | None:
    return CONNECTORS.get(platform)
