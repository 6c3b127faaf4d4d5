"""YouTube resources as the Data API v3 renders them (videos, channels, playlist items)."""

from __future__ import annotations

from typing import Any

from herald.sim.youtube.state import Video, YouTubeSim


def video_resource(sim: YouTubeSim, video: Video, parts: set[str]) -> dict[str, Any]:
    """A `youtube#video` with the parts asked for. Status moves uploaded → processed once
    `processing_s` has passed [docs: videos resource, status.uploadStatus]."""
    done = sim.processed(video)
    resource: dict[str, Any] = {"kind": "youtube#video", "etag": video.sha256[:27], "id": video.id}
    if "snippet" in parts:
        resource["snippet"] = {
            "publishedAt": video.published_at,
            "channelId": sim.config.channel_id,
            "title": video.snippet.get("title", ""),
            "description": video.snippet.get("description", ""),
            "thumbnails": {
                "default": {"url": f"https://i.ytimg.com/vi/{video.id}/default.jpg"},
            },
            "channelTitle": sim.config.channel_title,
            "tags": list(video.snippet.get("tags", [])),
            "categoryId": video.snippet.get("categoryId", "22"),
            "liveBroadcastContent": "none",
        }
        if not resource["snippet"]["tags"]:
            del resource["snippet"]["tags"]
    if "status" in parts:
        kids = bool(video.status.get("selfDeclaredMadeForKids", False))
        resource["status"] = {
            "uploadStatus": "processed" if done else "uploaded",
            "privacyStatus": video.status.get("privacyStatus", "public"),
            "license": "youtube",
            "embeddable": True,
            "publicStatsViewable": True,
            "madeForKids": kids,
            "selfDeclaredMadeForKids": kids,
        }
    if "processingDetails" in parts:
        resource["processingDetails"] = {
            "processingStatus": "succeeded" if done else "processing",
        }
    return resource


def channel_resource(sim: YouTubeSim) -> dict[str, Any]:
    config = sim.config
    return {
        "kind": "youtube#channel",
        "etag": config.channel_id[-27:],
        "id": config.channel_id,
        "snippet": {
            "title": config.channel_title,
            "description": "",
            "customUrl": config.channel_handle,
            "publishedAt": "2020-01-01T00:00:00Z",
            "thumbnails": {
                "default": {"url": f"https://yt3.ggpht.com/{config.channel_id}=s88"},
            },
        },
    }


def list_answer(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": f"youtube#{kind}ListResponse",
        "etag": "sim",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": max(len(items), 5)},
        "items": items,
    }
