"""Which connector publishes to which platform."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient
from herald.platforms._http import refused_by_policy
from herald.platforms.base import (
    Connector,
    PageLister,
    PostMetrics,
    Profile,
    ProfileMetrics,
    Published,
    PublishRequest,
    StatisticsReader,
)
from herald.platforms.bluesky.connector import BlueskyConnector
from herald.platforms.facebook.connector import FacebookConnector
from herald.platforms.instagram.connector import InstagramConnector
from herald.platforms.linkedin.connector import LinkedInConnector
from herald.platforms.mastodon.connector import MastodonConnector
from herald.platforms.sandbox.connector import SandboxConnector
from herald.platforms.telegram.connector import TelegramConnector
from herald.platforms.threads.connector import ThreadsConnector
from herald.platforms.tiktok.connector import TikTokConnector
from herald.platforms.x.connector import XConnector
from herald.platforms.youtube.connector import YouTubeConnector


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


class PolicyRefusingReader:
    """A statistics reader whose calls answer the egress policy's refusal as RejectedError."""

    def __init__(self, reader: StatisticsReader) -> None:
        self._reader = reader

    async def post_metrics(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        posted_ids: Sequence[str],
    ) -> dict[str, PostMetrics | None]:
        with refused_by_policy():
            return await self._reader.post_metrics(client, credentials, options, posted_ids)

    async def profile_metrics(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        account_external_id: str,
    ) -> ProfileMetrics:
        with refused_by_policy():
            return await self._reader.profile_metrics(
                client, credentials, options, account_external_id
            )


# One instance per platform and process: connectors keep per-account state worth sharing, such
# as Bluesky sessions (createSession is limited to 30 per 5 minutes).
_BLUESKY, _MASTODON = BlueskyConnector(), MastodonConnector()
_LINKEDIN = LinkedInConnector()
CONNECTORS: dict[Platform, Connector] = {
    connector.platform: PolicyRefusals(connector)
    for connector in (
        SandboxConnector(),
        _BLUESKY,
        _MASTODON,
        TelegramConnector(),
        XConnector(),
        _LINKEDIN,
        FacebookConnector(),
        InstagramConnector(),
        ThreadsConnector(),
        YouTubeConnector(),
        TikTokConnector(),
    )
}
# The platforms whose statistics Herald reads back (Publora's post- and profile-statistics),
# sharing the connectors' instances (and so Bluesky's sessions).
STATISTICS_READERS: dict[Platform, StatisticsReader] = {
    Platform.BLUESKY: PolicyRefusingReader(_BLUESKY),
    Platform.MASTODON: PolicyRefusingReader(_MASTODON),
}


def connector_for(platform: Platform) -> Connector | None:
    return CONNECTORS.get(platform)


class PolicyRefusingPages:
    """A page lister whose calls answer the egress policy's refusal as RejectedError."""

    def __init__(self, lister: PageLister) -> None:
        self._lister = lister

    async def administered_pages(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> list[Profile]:
        with refused_by_policy():
            return await self._lister.administered_pages(client, credentials, options)


# Platforms where one grant also connects the pages its account administers.
PAGE_LISTERS: dict[Platform, PageLister] = {Platform.LINKEDIN: PolicyRefusingPages(_LINKEDIN)}


def page_lister_for(platform: Platform) -> PageLister | None:
    return PAGE_LISTERS.get(platform)


def statistics_reader_for(platform: Platform) -> StatisticsReader | None:
    return STATISTICS_READERS.get(platform)
