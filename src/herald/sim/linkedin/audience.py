"""Audience reads: a member's followers (total and per day) and a page's follower count."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.linkedin.http import LinkedInError, enter, sim_of

_DAY = r"\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\)"
_RANGE = re.compile(rf"\(start:{_DAY},end:{_DAY}\)")
MAX_DAYS = 366


def _bad() -> LinkedInError:
    return LinkedInError(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")


def _range(text: str) -> tuple[date, date]:
    found = _RANGE.fullmatch(text)
    if found is None:
        raise _bad()
    numbers = [int(n) for n in found.groups()]
    try:
        start, end = date(*numbers[:3]), date(*numbers[3:])
    except ValueError:
        raise _bad() from None
    if not start < end or (end - start).days > MAX_DAYS:
        raise _bad()
    return start, end


def _daily_gain(sub: str, day: date) -> int:
    """A steady small gain per member and day [chosen]: 0 to 6 new followers."""
    digest = hashlib.sha256(f"{sub}:{day.isoformat()}".encode()).digest()
    return digest[0] % 7


async def member_followers(request: Request) -> Response:
    """GET /rest/memberFollowersCount?q=me | q=dateRange&dateRange=(start:(..),end:(..))."""
    grant = await enter(request)
    query = request.query_params
    member = grant.member
    if query.get("q") == "me":
        return JSONResponse({"elements": [{"memberFollowersCount": member.followers}]})
    if query.get("q") != "dateRange":
        raise _bad()
    start, end = _range(unquote(query.get("dateRange", "")))
    elements = []
    day = start
    while day < end:
        following = day + timedelta(days=1)
        elements.append(
            {
                "dateRange": {
                    "start": {"year": day.year, "month": day.month, "day": day.day},
                    "end": {"year": following.year, "month": following.month, "day": following.day},
                },
                "memberFollowersCount": _daily_gain(member.sub, day),
            }
        )
        day = following
    return JSONResponse({"elements": elements})


async def network_size(request: Request) -> Response:
    """GET /rest/networkSizes/{urn:li:organization:N}?edgeType=COMPANY_FOLLOWED_BY_MEMBER."""
    await enter(request)
    urn = unquote(request.path_params["urn"])
    prefix = "urn:li:organization:"
    org_id = urn[len(prefix) :] if urn.startswith(prefix) else ""
    org = sim_of(request).organizations.get(int(org_id)) if org_id.isdigit() else None
    if org is None or request.query_params.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
        raise _bad()
    return JSONResponse({"firstDegreeSize": org.followers})
