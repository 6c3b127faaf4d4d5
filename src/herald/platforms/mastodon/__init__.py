"""The Mastodon platform: a connector for any instance's client API (herald.sim.mastodon
simulates it)."""

from herald.platforms.mastodon.connector import MastodonConnector

__all__ = ["MastodonConnector"]
