"""The X platform: a connector for X's API v2 with OAuth 2.0 user tokens (herald.sim.x simulates
it)."""

from herald.platforms.x.connector import XConnector

__all__ = ["XConnector"]
