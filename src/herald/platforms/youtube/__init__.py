"""YouTube: videos through the Data API v3's resumable upload."""

from herald.platforms.youtube.connector import YouTubeConnector

__all__ = ["YouTubeConnector"]
