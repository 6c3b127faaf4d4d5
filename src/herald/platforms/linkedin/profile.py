"""`verify`'s reading of the member (OpenID userinfo) and of the company pages they
administer (organizationAcls, organizations) into Profiles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.net.http_client import HttpResponse
from herald.platforms.base import Profile, RetryableError
from herald.platforms.linkedin.api import LinkedInApi
from herald.platforms.linkedin.errors import error_for
from herald.platforms.linkedin.posts import ORGANIZATION, PERSON

# Roles that may post for a page [docs: organization access control].
_POSTING_ROLES = frozenset({"ADMINISTRATOR", "CONTENT_ADMINISTRATOR"})
PAGE_PREFIX = "org-"  # a page's external id: linkedin-org-<organization id>


async def read_member(api: LinkedInApi) -> Profile:
    info = _json(await _get(api, "/v2/userinfo", versioned=False), "the profile")
    sub, name = info.get("sub"), info.get("name")
    if not isinstance(sub, str) or not sub:
        raise RetryableError("LinkedIn's userinfo answer had no sub")
    shown = name if isinstance(name, str) and name else sub
    picture = info.get("picture")
    return Profile(
        external_id=sub,
        username=shown,
        display_name=shown,
        profile_image_url=picture if isinstance(picture, str) else "",
        options={"author": PERSON + sub},
    )


async def read_pages(api: LinkedInApi) -> list[Profile]:
    params = {"q": "roleAssignee", "state": "APPROVED"}
    acls = _json(await _get(api, "/rest/organizationAcls", params=params), "the page roles")
    elements = acls.get("elements")
    ids: list[str] = []
    for element in elements if isinstance(elements, list) else ():
        urn = element.get("organization") if isinstance(element, dict) else None
        if (
            isinstance(urn, str)
            and urn.startswith(ORGANIZATION)
            and element.get("role") in _POSTING_ROLES
            and urn[len(ORGANIZATION) :].isdigit()
        ):
            ids.append(urn[len(ORGANIZATION) :])
    return [await _page(api, org_id) for org_id in dict.fromkeys(ids)]


async def _page(api: LinkedInApi, org_id: str) -> Profile:
    org = _json(await _get(api, f"/rest/organizations/{org_id}"), "the page")
    name = org.get("localizedName")
    vanity = org.get("vanityName")
    shown = name if isinstance(name, str) and name else org_id
    return Profile(
        external_id=PAGE_PREFIX + org_id,
        username=shown,
        display_name=shown,
        profile_url=(
            f"https://www.linkedin.com/company/{vanity}/"
            if isinstance(vanity, str) and vanity
            else None
        ),
        options={"author": ORGANIZATION + org_id},
    )


async def _get(
    api: LinkedInApi,
    path: str,
    *,
    params: Mapping[str, str | int] | None = None,
    versioned: bool = True,
) -> HttpResponse:
    response = await api.send("GET", path, params=params, versioned=versioned)
    if response.status_code != 200:
        raise error_for(response, api.token, "the profile read", may_exist=False)
    return response


def _json(response: HttpResponse, subject: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RetryableError(f"LinkedIn's answer about {subject} could not be read")
    return body
