"""The body of POST /rest/posts for a Herald post: author, little-text commentary, media and
Publora's repost settings (publora-latest §5.2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from herald.domain.linkedin_text import commentary
from herald.platforms.base import MediaItem, PublishRequest

PERSON = "urn:li:person:"
ORGANIZATION = "urn:li:organization:"


def author_of(request: PublishRequest) -> str:
    """The member or company page a post is by: stored with the connection when it was made."""
    author = request.options.get("author")
    if isinstance(author, str) and author.startswith((PERSON, ORGANIZATION)):
        return author
    return PERSON + request.account_external_id


def post_body(
    request: PublishRequest, media: Sequence[tuple[MediaItem, str, str]]
) -> dict[str, Any]:
    """`media`: (item, its URN, its kind) in order."""
    author = author_of(request)
    settings: Mapping[str, Any] = request.settings
    parent = settings.get("repostParentUrn") or ""
    visibility = str(settings.get("repostVisibility") or "PUBLIC").upper() if parent else "PUBLIC"
    if author.startswith(ORGANIZATION):
        visibility = "PUBLIC"  # pages post publicly (Publora forces it at publish)
    body: dict[str, Any] = {
        "author": author,
        "commentary": commentary(request.text),
        "visibility": visibility,
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    if parent:
        body["reshareContext"] = {"parent": parent}
    content = _content(media)
    if content is not None:
        body["content"] = content
    return body


def _content(media: Sequence[tuple[MediaItem, str, str]]) -> dict[str, Any] | None:
    if not media:
        return None
    if len(media) > 1:
        return {"multiImage": {"images": [_image(item, urn) for item, urn, _ in media]}}
    item, urn, kind = media[0]
    if kind == "image":
        return {"media": _image(item, urn)}
    # [docs] a video or document takes a title; the alt text, when given, serves as one
    return {"media": {"id": urn, "title": (item.alt_text or "")[:400] or kind.title()}}


def _image(item: MediaItem, urn: str) -> dict[str, str]:
    image = {"id": urn}
    if item.alt_text:
        image["altText"] = item.alt_text[:4086]  # [docs] altText up to 4,086 characters
    return image


def comment_body(author: str, post_urn: str, text: str) -> dict[str, Any]:
    return {"actor": author, "object": post_urn, "message": {"text": commentary(text)}}
