"""Post records and their addresses: AT URIs, bsky.app URLs and the record Herald writes.

at://<did>/app.bsky.feed.post/<rkey>                a post's external id in Herald
https://bsky.app/profile/<handle|did>/post/<rkey>   its public page
{"$type": "app.bsky.feed.post", "text", "createdAt" (ISO 8601, Z), "langs"?, "facets"?,
 "embed"?, "reply"?: {"root": {"uri", "cid"}, "parent": {"uri", "cid"}}}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from herald.domain.timestamps import format_timestamp

POST_COLLECTION = "app.bsky.feed.post"
_AT_URI = re.compile(r"at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/([A-Za-z0-9.-]+)/([A-Za-z0-9._:~-]+)")
_MAX_LANGS = 3  # the lexicon's limit


@dataclass(frozen=True)
class RecordRef:
    did: str
    collection: str
    rkey: str

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"

    @classmethod
    def parse(cls, uri: str) -> RecordRef | None:
        match = _AT_URI.fullmatch(uri)
        return cls(match[1], match[2], match[3]) if match else None


def post_url(profile: str, rkey: str) -> str:
    """`profile` is the handle, or the DID when the handle is unknown (both work on bsky.app)."""
    return f"https://bsky.app/profile/{profile}/post/{rkey}"


def post_record(
    text: str,
    created_at: datetime,
    *,
    langs: list[str],
    facets: list[dict[str, Any]],
    embed: dict[str, Any] | None,
    reply: dict[str, Any] | None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "$type": POST_COLLECTION,
        "text": text,
        "createdAt": format_timestamp(created_at),
    }
    optional = {"langs": langs, "facets": facets, "embed": embed, "reply": reply}
    record.update({name: value for name, value in optional.items() if value})
    return record


def languages(settings: Mapping[str, Any]) -> list[str]:
    """`platformSettings.bluesky.langs` (a list) or `.lang` (one tag), such as "en" or "pt-BR";
    none unless the owner gave one, since a wrong guess hides the post from readers' feeds."""
    value = settings.get("langs", settings.get("lang"))
    tags = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [tag for tag in tags if isinstance(tag, str) and tag.strip()][:_MAX_LANGS]
