"""Social actions Herald makes for its clients (Publora's linkedin-comments, linkedin-reactions
and linkedin-reshare): one LinkedIn call each, answers as plain data or the taxonomy's errors.
Comments and reshares create something, so an answer lost after sending is OutcomeUnknownError."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from herald.domain.linkedin_text import commentary
from herald.net.http_client import HttpResponse
from herald.platforms.base import RejectedError
from herald.platforms.linkedin.api import LinkedInApi
from herald.platforms.linkedin.errors import error_for, read_answer

REACTION_EXISTS = "REACTION_EXISTS"


def _enc(urn: str) -> str:
    return quote(urn, safe="")


def _body(response: HttpResponse) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def comment(
    api: LinkedInApi, actor: str, post_urn: str, text: str, parent: str | None = None
) -> dict[str, Any]:
    """POST /rest/socialActions/{urn}/comments: LinkedIn's comment, with its id and URN."""
    body: dict[str, Any] = {
        "actor": actor,
        "object": post_urn,
        "message": {"text": commentary(text)},
    }
    if parent:
        body["parentComment"] = parent
    path = f"/rest/socialActions/{_enc(post_urn)}/comments"
    response = await api.send("POST", path, may_exist=True, json=body)
    if response.status_code != 201:
        raise error_for(response, api.token, "the comment", may_exist=True)
    answer = _body(response)
    urn = response.headers.get("x-restli-id") or answer.get("commentUrn")
    return {**answer, "commentUrn": urn}


async def delete_comment(api: LinkedInApi, actor: str, post_urn: str, comment_id: str) -> None:
    path = f"/rest/socialActions/{_enc(post_urn)}/comments/{_enc(comment_id)}"
    response = await api.send("DELETE", path, params={"actor": actor})
    if response.status_code not in (200, 204):
        raise error_for(response, api.token, "deleting the comment", may_exist=False)


async def react(api: LinkedInApi, actor: str, post_urn: str, reaction: str) -> None:
    """POST /rest/reactions?actor=: a 409 is RejectedError code REACTION_EXISTS."""
    response = await api.send(
        "POST",
        "/rest/reactions",
        params={"actor": actor},
        json={"root": post_urn, "reactionType": reaction},
    )
    if response.status_code == 409:
        message = read_answer(response, api.token).message
        raise RejectedError(message, code=REACTION_EXISTS, http_status=409)
    if response.status_code not in (200, 201):
        raise error_for(response, api.token, "the reaction", may_exist=False)


async def unreact(api: LinkedInApi, actor: str, post_urn: str) -> str | None:
    """DELETE /rest/reactions/(actor:…,entity:…): the type removed, when LinkedIn says."""
    key = f"(actor:{_enc(actor)},entity:{_enc(post_urn)})"
    response = await api.send("DELETE", f"/rest/reactions/{key}")
    if response.status_code not in (200, 204):
        raise error_for(response, api.token, "removing the reaction", may_exist=False)
    kind = _body(response).get("reactionType")
    return kind if isinstance(kind, str) else None


async def reshare(
    api: LinkedInApi, author: str, parent: str, text: str, visibility: str
) -> dict[str, Any]:
    """POST /rest/posts with reshareContext.parent: the new post's URN from x-restli-id."""
    body = {
        "author": author,
        "commentary": commentary(text),
        "visibility": visibility,
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
        "reshareContext": {"parent": parent},
    }
    response = await api.send("POST", "/rest/posts", may_exist=True, json=body)
    if response.status_code != 201:
        raise error_for(response, api.token, "the reshare", may_exist=True)
    return {"lifecycleState": "PUBLISHED", "id": response.headers.get("x-restli-id")}


async def post_metrics(api: LinkedInApi, post_urn: str, metrics: tuple[str, ...]) -> dict[str, int]:
    """GET /rest/memberCreatorPostAnalytics?q=entity per metric, TOTAL aggregation [docs:
    community-management/members/post-statistics]: the count LinkedIn reports, 0 when none."""
    kind = "ugcPost" if post_urn.startswith("urn:li:ugcPost:") else "share"
    counts: dict[str, int] = {}
    for metric in metrics:
        params = {
            "q": "entity",
            "entity": f"({kind}:{_enc(post_urn)})",
            "queryType": metric,
            "aggregation": "TOTAL",
        }
        response = await api.send("GET", "/rest/memberCreatorPostAnalytics", params=params)
        if response.status_code != 200:
            raise error_for(response, api.token, "the post's statistics", may_exist=False)
        elements = _body(response).get("elements")
        first = elements[0] if isinstance(elements, list) and elements else {}
        count = first.get("count") if isinstance(first, dict) else None
        counts[metric] = count if isinstance(count, int) and not isinstance(count, bool) else 0
    return counts


def _first_int(response: HttpResponse, field: str) -> int:
    elements = _body(response).get("elements")
    first = elements[0] if isinstance(elements, list) and elements else {}
    value = first.get(field) if isinstance(first, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def account_metrics(api: LinkedInApi, metrics: tuple[str, ...]) -> dict[str, int]:
    """GET /rest/memberCreatorPostAnalytics?q=me per metric: the member's posts together."""
    counts: dict[str, int] = {}
    for metric in metrics:
        params = {"q": "me", "queryType": metric, "aggregation": "TOTAL"}
        response = await api.send("GET", "/rest/memberCreatorPostAnalytics", params=params)
        if response.status_code != 200:
            raise error_for(response, api.token, "the account's statistics", may_exist=False)
        counts[metric] = _first_int(response, "count")
    return counts


async def followers(api: LinkedInApi, author: str) -> int:
    """A member's (memberFollowersCount q=me) or a page's (networkSizes) follower count."""
    if author.startswith("urn:li:organization:"):
        response = await api.send(
            "GET",
            f"/rest/networkSizes/{_enc(author)}",
            params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"},
        )
        if response.status_code != 200:
            raise error_for(response, api.token, "the followers", may_exist=False)
        size = _body(response).get("firstDegreeSize")
        return size if isinstance(size, int) and not isinstance(size, bool) else 0
    response = await api.send("GET", "/rest/memberFollowersCount", params={"q": "me"})
    if response.status_code != 200:
        raise error_for(response, api.token, "the followers", may_exist=False)
    return _first_int(response, "memberFollowersCount")


async def daily_followers(
    api: LinkedInApi, start: tuple[int, int, int], end: tuple[int, int, int]
) -> list[dict[str, Any]]:
    """A member's new followers per day in [start, end): [{"date", "count"}]."""
    span = (
        f"(start:(year:{start[0]},month:{start[1]},day:{start[2]}),"
        f"end:(year:{end[0]},month:{end[1]},day:{end[2]}))"
    )
    response = await api.send(
        "GET", "/rest/memberFollowersCount", params={"q": "dateRange", "dateRange": span}
    )
    if response.status_code != 200:
        raise error_for(response, api.token, "the followers", may_exist=False)
    days = []
    elements = _body(response).get("elements")
    for element in elements if isinstance(elements, list) else ():
        try:
            first = element["dateRange"]["start"]
            day = f"{int(first['year']):04d}-{int(first['month']):02d}-{int(first['day']):02d}"
            count = int(element["memberFollowersCount"])
        except (LookupError, TypeError, ValueError):
            continue
        days.append({"date": day, "count": count})
    return days
