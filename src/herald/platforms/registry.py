"""Which connector publishes to which platform."""

from __future__ import annotations

from herald.domain.platform import Platform
from herald.platforms.base import Connector
from herald.platforms.sandbox.connector import SandboxConnector

CONNECTORS: dict[Platform, Connector] = {
    Platform.SANDBOX: SandboxConnector(),
}


def connector_for(platform: Platform) -> Connector | None:
    return CONNECTORS.get(platform)
