"""The Telegram platform: a connector for the Bot API (simulated by herald.sim.telegram)."""

from herald.platforms.telegram.connector import TelegramConnector

__all__ = ["TelegramConnector"]
