"""The sandbox platform: a connector that publishes to the sandbox simulator (herald.sim)."""

from herald.platforms.sandbox.connector import SandboxConnector

__all__ = ["SandboxConnector"]
