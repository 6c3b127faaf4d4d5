"""Checking an X token: the account it acts for (GET /2/users/me)."""

from __future__ import annotations

from typing import Any

from herald.platforms.base import Profile, RejectedError
from herald.platforms.x.api import WEB_URL, XApi
from herald.platforms.x.errors import error_for

ME = "/2/users/me"


async def read_profile(api: XApi) -> Profile:
    response = await api.send("GET", ME, params={"user.fields": "profile_image_url"})
    if response.status_code != 200:
        raise error_for(response, api.token, "the account", may_exist=False)
    try:
        user = response.json().get("data")
    except (ValueError, AttributeError):
        user = None
    if not isinstance(user, dict) or not _id(user.get("id")) or not _text(user.get("username")):
        raise RejectedError(f"X's answer to {ME} holds no user; check the connection's apiUrl")
    username = user["username"]
    return Profile(
        external_id=user["id"],
        username=f"@{username}",
        display_name=_text(user.get("name")) or username,
        profile_image_url=_text(user.get("profile_image_url")),
        profile_url=f"{WEB_URL}/{username}",
        options={"apiUrl": api.base_url, "username": username},
    )


def _id(value: Any) -> bool:
    # X's ids are decimal strings (64-bit snowflakes); the connection id is built from it.
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
