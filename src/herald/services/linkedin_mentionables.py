"""Publora's linkedin-mentionables (publora-latest §2.12): the members who commented on or
reacted to the caller's company pages' posts, each with a ready-to-paste mention. Publora keeps
a directory filled as a side effect of its own engagement reads; Herald reads the same
engagement from LinkedIn when asked (README: compatibility), through the caller's own page
connections only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db.engine import unit_of_work
from herald.domain.platform import Platform
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.platforms.base import PublishError
from herald.platforms.linkedin import engagement
from herald.platforms.linkedin.api import api_for
from herald.services.linkedin_social import CALL_TIMEOUT_S
from herald.services.secret_box import SecretBox
from herald.store.connection import ConnectionStore

POSTS_PER_PAGE = 20  # the newest posts of each page are read; older engagement is not
DEFAULT_LIMIT = 25
_UNSAFE = re.compile(r"[|}]")


def limit_of(value: str | None) -> int:
    """`limit` 1–100, default 25; out of range is clamped, as list-posts does [chosen]."""
    try:
        return max(1, min(100, int(value))) if value is not None else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT


async def _page_credentials(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, account_id: str
) -> list[tuple[dict[str, Any], Mapping[str, Any], str]]:
    """(credentials, options, page URN) of each of the caller's company-page connections."""
    pages = []
    async with unit_of_work(sessions, write=False) as session:
        for connection in await ConnectionStore(session).list_for_account(account_id):
            options: Mapping[str, Any] = dict(connection.options or {})
            author = options.get("author")
            if (
                connection.platform != Platform.LINKEDIN.value
                or connection.credentials is None
                or not isinstance(author, str)
                or not author.startswith("urn:li:organization:")
            ):
                continue
            pages.append((box.open(connection.credentials), options, author))
    return pages


def _entry(person_id: str, name: str, source: str, ms: int) -> dict[str, Any]:
    clean = " ".join(_UNSAFE.sub(" ", name).split())
    return {
        "personId": person_id,
        "name": clean,
        "profileUrl": "",
        "profilePicture": "",
        "source": source,
        "lastSeenAt": datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "mention": f"@{{urn:li:person:{person_id}|{clean}}}" if clean else None,
    }


async def mentionables(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    settings: Settings,
    account_id: str,
    query: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """People, the most recently seen first; a page LinkedIn will not answer for is left out
    (the directory is best-effort, as Publora's is)."""
    latest: dict[str, tuple[str, int]] = {}  # person id -> (source, ms)
    names: dict[str, str] = {}
    pages = await _page_credentials(sessions, box, account_id)
    async with one_off_client(EgressPolicy.from_settings(settings), CALL_TIMEOUT_S) as client:
        for credentials, options, author in pages:
            api = api_for(
                client, credentials, {**options, "linkedinVersion": settings.linkedin_version}
            )
            try:
                for urn in await engagement.recent_posts(api, author, POSTS_PER_PAGE):
                    for person_id, source, ms in await engagement.engagement(api, urn):
                        if person_id not in latest or latest[person_id][1] < ms:
                            latest[person_id] = (source, ms)
                for person_id in latest.keys() - names.keys():
                    names[person_id] = await engagement.member_name(api, person_id)
            except PublishError:
                continue
    needle = query.casefold() if query else ""
    people = [
        _entry(person_id, names.get(person_id, ""), source, ms)
        for person_id, (source, ms) in latest.items()
    ]
    chosen = [p for p in people if needle in p["name"].casefold()]
    chosen.sort(key=lambda p: str(p["lastSeenAt"]), reverse=True)
    return chosen[:limit]
