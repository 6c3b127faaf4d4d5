"""Checking a Mastodon token: the account it acts for, and the instance's posting limits."""

from __future__ import annotations

from typing import Any

from herald.platforms.base import Profile, PublishError, RejectedError
from herald.platforms.mastodon.api import MastodonApi
from herald.platforms.mastodon.errors import error_for

_VERIFY = "/api/v1/accounts/verify_credentials"


async def read_profile(api: MastodonApi) -> Profile:
    response = await api.send("GET", _VERIFY)
    if response.status_code == 404:
        raise RejectedError(_not_mastodon(api, "HTTP 404"), http_status=404)
    if response.status_code != 200:
        raise error_for(response, api.token, "the account", may_exist=False)
    try:
        account = response.json()
    except ValueError:
        account = None
    if not isinstance(account, dict) or not _text(account.get("id")):
        raise RejectedError(_not_mastodon(api, "no account in the answer"))
    username = _text(account.get("username")) or _text(account.get("acct")) or account["id"]
    domain, limits = await _instance(api)
    return Profile(
        external_id=account["id"],
        username=f"@{username}@{domain or api.host}",
        display_name=_text(account.get("display_name")) or username,
        profile_image_url=_text(account.get("avatar")),
        profile_url=_text(account.get("url")) or None,
        options={"instanceUrl": api.base_url, "username": username, **limits},
    )


async def _instance(api: MastodonApi) -> tuple[str, dict[str, int]]:
    """The instance's handle domain (which may differ from the API's host) and its status
    limits; nothing when it has no /api/v2/instance (before 4.0, or another server)."""
    try:
        response = await api.send("GET", "/api/v2/instance")
        body = response.json() if response.status_code == 200 else {}
    except (PublishError, ValueError):
        return "", {}
    if not isinstance(body, dict):
        return "", {}
    configuration = body.get("configuration")
    statuses = configuration.get("statuses") if isinstance(configuration, dict) else None
    limits: dict[str, int] = {}
    if isinstance(statuses, dict):
        for wire, option in (
            ("max_characters", "maxCharacters"),
            ("max_media_attachments", "maxMediaAttachments"),
        ):
            value = statuses.get(wire)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                limits[option] = value
    return _text(body.get("domain")), limits


def _not_mastodon(api: MastodonApi, why: str) -> str:
    return (
        f"{api.host} did not answer like a Mastodon server ({why} for {_VERIFY}); "
        "check the connection's instanceUrl"
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
