"""TikTok: Direct Post of videos and photos through the Content Posting API."""

from herald.platforms.tiktok.connector import TikTokConnector

__all__ = ["TikTokConnector"]
