"""Who engaged with a company page's posts, read from LinkedIn: the page's recent posts, their
comments and reactions (each an actor and a time), and a member's localized name. These feed
Publora's mentionable-people directory (linkedin-mentionables)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from herald.net.http_client import HttpResponse
from herald.platforms.linkedin.api import LinkedInApi
from herald.platforms.linkedin.errors import error_for

PERSON = "urn:li:person:"


def _elements(response: HttpResponse) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    found = body.get("elements") if isinstance(body, dict) else None
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


async def _get(api: LinkedInApi, path: str, what: str, **params: str) -> HttpResponse:
    response = await api.send("GET", path, params=params)
    if response.status_code != 200:
        raise error_for(response, api.token, what, may_exist=False)
    return response


async def recent_posts(api: LinkedInApi, author: str, count: int) -> list[str]:
    """GET /rest/posts?q=author: the URNs of the author's `count` newest posts."""
    response = await _get(
        api, "/rest/posts", "the page's posts", q="author", author=author, count=str(count)
    )
    return [str(e["id"]) for e in _elements(response) if isinstance(e.get("id"), str)]


def _seen(element: dict[str, Any], source: str) -> tuple[str, str, int] | None:
    """(person id, source, time in ms) of a member's comment or reaction; pages are skipped."""
    created = element.get("created")
    actor = element.get("actor") or (created.get("actor") if isinstance(created, dict) else None)
    when = created.get("time") if isinstance(created, dict) else None
    if not isinstance(actor, str) or not actor.startswith(PERSON) or not isinstance(when, int):
        return None
    return actor.removeprefix(PERSON), source, when


async def engagement(api: LinkedInApi, post_urn: str) -> list[tuple[str, str, int]]:
    """The members who commented on or reacted to the post: (person id, source, ms)."""
    enc = quote(post_urn, safe="")
    comments = await _get(
        api, f"/rest/socialActions/{enc}/comments", "the post's comments", count="100"
    )
    reactions = await _get(
        api, f"/rest/reactions/(entity:{enc})", "the post's reactions", q="entity", count="100"
    )
    seen = [_seen(e, "comment") for e in _elements(comments)]
    seen += [_seen(e, "reaction") for e in _elements(reactions)]
    return [s for s in seen if s is not None]


async def member_name(api: LinkedInApi, person_id: str) -> str:
    """GET /rest/people/(id:{id}): the member's localized name, "" when LinkedIn will not say."""
    response = await api.send("GET", f"/rest/people/(id:{quote(person_id, safe='')})")
    if response.status_code != 200:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = (body.get("localizedFirstName"), body.get("localizedLastName"))
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
