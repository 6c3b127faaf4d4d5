"""The Bluesky platform: a connector that publishes to an AT Protocol PDS (herald.sim.bluesky)."""

from herald.platforms.bluesky.connector import BlueskyConnector

__all__ = ["BlueskyConnector"]
