"""Mastodon's JSON entities (Account, Status, MediaAttachment, Instance) and status HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from typing import Any

from herald.domain.timestamps import format_timestamp
from herald.sim.mastodon_config import MastodonAccount, MastodonConfig
from herald.sim.mastodon_state import SimMedia, SimStatus

# The types Mastodon 4.x accepts, and what each becomes (GIFs are turned into silent video).
MEDIA_KINDS = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/webp": "image",
    "image/heic": "image",
    "image/heif": "image",
    "image/avif": "image",
    "image/gif": "gifv",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/webm": "video",
    "video/ogg": "video",
    "audio/mpeg": "audio",
    "audio/mp3": "audio",
    "audio/ogg": "audio",
    "audio/wav": "audio",
    "audio/flac": "audio",
    "audio/aac": "audio",
    "audio/mp4": "audio",
}
URL_LENGTH = 23  # characters_reserved_per_url: what herald.domain.text counts a URL as

# A URL, a hashtag, or a mention (`@user` or `@user@domain`), in the order Mastodon links them.
_ENTITY = re.compile(
    r"(?P<url>https?://[^\s<>\"]+)"
    r"|(?<![\w/&])\#(?P<tag>\w*[^\W\d]\w*)"
    r"|(?<![\w/@])@(?P<user>\w+)(?:@(?P<domain>[\w.-]*\w))?"
)
_URL_TRAILING = ".,;:!?'\")]}"
_ELLIPSIS_AFTER = 30  # Mastodon shows the first 30 characters of a link after its scheme


def account_entity(
    account: MastodonAccount, base: str, statuses_count: int, follows: tuple[int, int] = (0, 0)
) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "acct": account.username,  # local accounts have no domain part
        "display_name": account.display_name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2024-01-01T00:00:00.000Z",
        "note": "",
        "url": f"{base}/@{account.username}",
        "uri": f"{base}/users/{account.username}",
        "avatar": account.avatar or f"{base}/avatars/original/missing.png",
        "avatar_static": account.avatar or f"{base}/avatars/original/missing.png",
        "header": f"{base}/headers/original/missing.png",
        "header_static": f"{base}/headers/original/missing.png",
        "followers_count": follows[0],
        "following_count": follows[1],
        "statuses_count": statuses_count,
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }


def credential_account_entity(
    account: MastodonAccount, base: str, statuses_count: int, follows: tuple[int, int] = (0, 0)
) -> dict[str, Any]:
    """verify_credentials: the Account plus the owner-only `source` block."""
    source = {
        "privacy": "public",
        "sensitive": False,
        "language": None,
        "note": "",
        "fields": [],
        "follow_requests_count": 0,
    }
    return {**account_entity(account, base, statuses_count, follows), "source": source}


def media_entity(media: SimMedia, base: str) -> dict[str, Any]:
    # While processing, `url` is null (Mastodon's 202/206 answers); clients must wait for it.
    path = f"{base}/system/media_attachments/files/{media.id}"
    ready = not media.processing() and not media.failed
    return {
        "id": media.id,
        "type": media.kind,
        "url": f"{path}/original/{media.filename}" if ready else None,
        "preview_url": f"{path}/small/{media.filename}" if ready else None,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {},
        "description": media.description,
        "blurhash": None,
    }


def status_entity(status: SimStatus, base: str, usernames: Collection[str]) -> dict[str, Any]:
    account = status.account
    parent = status.in_reply_to
    return {
        "id": status.id,
        "created_at": format_timestamp(status.created_at),
        "in_reply_to_id": parent.id if parent else None,
        "in_reply_to_account_id": parent.account.id if parent else None,
        "sensitive": False,
        "spoiler_text": status.spoiler_text,
        "visibility": status.visibility,
        "language": None,
        "uri": f"{base}/users/{account.username}/statuses/{status.id}",
        "url": f"{base}/@{account.username}/{status.id}",
        "replies_count": len(status.replies),
        "reblogs_count": status.reblogs,
        "favourites_count": status.favourites,
        "edited_at": None,
        "content": render_content(status.text, base, usernames),
        "reblog": None,
        "application": {"name": "Herald", "website": None},
        "account": account_entity(account, base, 0),
        "media_attachments": [media_entity(media, base) for media in status.media],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
        # Mastodon 4.5 added quotes; an older instance sends no such key.
        **({"quotes_count": status.quotes} if status.quotes is not None else {}),
    }


def render_content(text: str, base: str, usernames: Collection[str]) -> str:
    """A status's text as Mastodon renders plain text: escaped, links, hashtags and mentions
    of known accounts linked, blank lines separating `<p>`s and single newlines `<br />`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text:
        return ""
    pieces: list[str] = []
    done = 0
    for match in _ENTITY.finditer(text):
        start, end = match.span()
        if match["url"]:
            # Trailing punctuation ends the sentence, not the URL; it stays text.
            url = match["url"].rstrip(_URL_TRAILING)
            end, piece = start + len(url), _link(url)
        elif match["tag"]:
            piece = _hashtag(match["tag"], base)
        elif match["user"] and match["user"].lower() in usernames:
            piece = _mention(match["user"], base)
        else:
            continue  # a mention of an unknown account stays plain text
        pieces += [html.escape(text[done:start]), piece]
        done = end
    pieces.append(html.escape(text[done:]))
    paragraphs = re.split(r"\n{2,}", "".join(pieces))
    return "".join(f"<p>{paragraph.replace(chr(10), '<br />')}</p>" for paragraph in paragraphs)


def _link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    shown, hidden = rest[:_ELLIPSIS_AFTER], rest[_ELLIPSIS_AFTER:]
    shown_class = "ellipsis" if hidden else ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(scheme)}://</span>'
        f'<span class="{shown_class}">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )


def _hashtag(tag: str, base: str) -> str:
    href = html.escape(f"{base}/tags/{tag.lower()}")
    shown = html.escape(tag)
    return f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{shown}</span></a>'


def _mention(username: str, base: str) -> str:
    href = html.escape(f"{base}/@{username}")
    return (
        f'<span class="h-card" translate="no"><a href="{href}" class="u-url mention">'
        f"@<span>{html.escape(username)}</span></a></span>"
    )


def instance_entity(config: MastodonConfig, base: str, domain: str, users: int) -> dict[str, Any]:
    media = {
        "supported_mime_types": list(MEDIA_KINDS),
        "description_limit": config.description_limit,
        "image_size_limit": config.image_size_limit,
        "image_matrix_limit": 33_177_600,
        "video_size_limit": config.video_size_limit,
        "video_frame_rate_limit": 120,
        "video_matrix_limit": 8_294_400,
    }
    statuses = {
        "max_characters": config.max_characters,
        "max_media_attachments": config.max_media_attachments,
        "characters_reserved_per_url": URL_LENGTH,
    }
    return {
        "domain": domain,
        "title": "Herald Mastodon simulator",
        "version": "4.3.0 (compatible; Herald simulator)",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "An in-memory stand-in for a Mastodon server, for tests and dry runs.",
        "usage": {"users": {"active_month": users}},
        "thumbnail": {"url": f"{base}/packs/media/images/preview.png"},
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": None},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": statuses,
            "media_attachments": media,
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2_629_746,
            },
            "translation": {"enabled": False},
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": "", "account": None},
        "rules": [],
    }
