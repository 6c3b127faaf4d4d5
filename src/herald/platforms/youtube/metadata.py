"""What Herald sends as a video's metadata, from the post's text and its YouTube settings
(publora-latest §5.2, publora-spec §4.8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TITLE_LIMIT = 100
DERIVED_TITLE_LIMIT = 70  # Publora derives a missing title from the text's first 70 characters
DESCRIPTION_BYTES = 5000
TAGS_BUDGET = 500
FALLBACK_TITLE = "Video"  # chosen: YouTube refuses an empty title, and a post may have no text
# YouTube refuses `<` and `>` in titles and descriptions (invalidTitle, invalidDescription);
# Herald sends look-alike angle quotes instead of failing the post [chosen].
_ANGLES = str.maketrans({"<": "\u2039", ">": "\u203a"})


def derive_title(content: str) -> str:
    """The first 70 characters of the text, cut at a word boundary when a word would be split
    (publora-spec §4.8's worked example), on one line."""
    text = " ".join(content.split()).translate(_ANGLES)
    if len(text) <= DERIVED_TITLE_LIMIT:
        return text or FALLBACK_TITLE
    cut = text[: DERIVED_TITLE_LIMIT + 1]
    space = cut.rfind(" ")
    head = cut[:space] if space > 0 else text[:DERIVED_TITLE_LIMIT]
    return head.rstrip() or FALLBACK_TITLE


def title_of(content: str, settings: Mapping[str, Any]) -> str:
    given = settings.get("title")
    if isinstance(given, str) and given.strip():
        return given.strip().translate(_ANGLES)[:TITLE_LIMIT]
    return derive_title(content)


def description_of(content: str) -> str:
    """The whole text, cut to 5,000 UTF-8 bytes without splitting a character."""
    data = content.translate(_ANGLES).encode()[:DESCRIPTION_BYTES]
    return data.decode("utf-8", errors="ignore")


def tags_of(settings: Mapping[str, Any]) -> list[str]:
    """Tags from a list or a comma-separated string, trimmed to YouTube's 500-character budget
    (a tag with a space counts two more, for the quotes YouTube adds); never refused."""
    raw = settings.get("tags")
    items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    tags: list[str] = []
    used = 0
    for item in items:
        tag = str(item).strip().translate(_ANGLES)
        if not tag:
            continue
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)  # + the comma
        if used + cost > TAGS_BUDGET:
            break
        tags.append(tag)
        used += cost
    return tags


def video_metadata(content: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The videos.insert body: snippet and status."""
    snippet: dict[str, Any] = {
        "title": title_of(content, settings),
        "description": description_of(content),
    }
    tags = tags_of(settings)
    if tags:
        snippet["tags"] = tags
    category = settings.get("categoryId")
    if isinstance(category, str) and category:
        snippet["categoryId"] = category
    privacy = settings.get("privacy")
    status = {
        "privacyStatus": privacy if privacy in ("public", "private", "unlisted") else "public",
        "selfDeclaredMadeForKids": settings.get("madeForKids") is True,
    }
    return {"snippet": snippet, "status": status}


def playlist_of(settings: Mapping[str, Any]) -> str | None:
    playlist = settings.get("playlist")
    if isinstance(playlist, Mapping):
        playlist_id = playlist.get("id")
        if isinstance(playlist_id, str) and playlist_id:
            return playlist_id
    return None


def thumbnail_id(settings: Mapping[str, Any]) -> str | None:
    thumbnail = settings.get("thumbnail")
    if isinstance(thumbnail, Mapping):
        media_id = thumbnail.get("mediaId") or thumbnail.get("id")
        if isinstance(media_id, str) and media_id:
            return media_id
    return None
