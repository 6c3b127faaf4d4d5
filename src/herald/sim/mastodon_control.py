"""The Mastodon simulator's own control endpoints under /_sim/: script, accounts, contents."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.domain.timestamps import format_timestamp
from herald.sim.control import base_url
from herald.sim.faults import ConfigError, error_response, script_entries
from herald.sim.mastodon_config import new_account
from herald.sim.mastodon_entities import account_entity
from herald.sim.mastodon_http import sim_of
from herald.sim.mastodon_state import MEDIA_SCRIPT, SimMedia, SimStatus


async def sim_script(request: Request) -> Response:
    """Appends `{"faults": [...]}` (status creates) and `{"media": ["ok" | "fail", ...]}`
    (uploads), validated whole before either is applied."""
    sim = sim_of(request)
    try:
        body = await request.json()
        if not isinstance(body, dict) or not {"faults", "media"} & body.keys():
            raise ConfigError('script must be {"faults": [names]} and/or {"media": [outcomes]}')
        faults = script_entries({"faults": body["faults"]}) if "faults" in body else []
        media = _media_entries(body.get("media", []))
    except ValueError as exc:  # bad JSON, or a ConfigError
        return error_response(422, "invalid_script", str(exc))
    sim.injector.extend(faults)
    sim.media_script.extend(media)
    return JSONResponse({"faults": list(sim.injector.script), "media": list(sim.media_script)})


def _media_entries(entries: object) -> list[str]:
    if not isinstance(entries, list) or not all(entry in MEDIA_SCRIPT for entry in entries):
        raise ConfigError(f"media must be a list of {', '.join(sorted(MEDIA_SCRIPT))}")
    return entries


async def sim_statuses(request: Request) -> Response:
    """Every status as stored, oldest first (optionally one account's), with what the API does
    not show: the raw text and the Idempotency-Key it was created with."""
    sim = sim_of(request)
    account = request.query_params.get("account")
    statuses = sim.by_account.get(account, []) if account else list(sim.statuses.values())
    return JSONResponse({"statuses": [_status_record(s, base_url(request)) for s in statuses]})


def _status_record(status: SimStatus, base: str) -> dict[str, Any]:
    return {
        "id": status.id,
        "account_id": status.account.id,
        "url": f"{base}/@{status.account.username}/{status.id}",
        "text": status.text,
        "spoiler_text": status.spoiler_text,
        "visibility": status.visibility,
        "in_reply_to_id": status.in_reply_to.id if status.in_reply_to else None,
        "media_ids": [media.id for media in status.media],
        "idempotency_key": status.idempotency_key,
        "created_at": format_timestamp(status.created_at),
    }


async def sim_media(request: Request) -> Response:
    media = sim_of(request).media.values()
    return JSONResponse({"media": [_media_record(m) for m in media]})


def _media_record(media: SimMedia) -> dict[str, Any]:
    return {
        "id": media.id,
        "account_id": media.account_id,
        "type": media.kind,
        "content_type": media.content_type,
        "size": media.size,
        "sha256": media.sha256,
        "description": media.description,
        "processing": media.processing(),
        "failed": media.failed,
        "status_id": media.status_id,
    }


async def sim_accounts(request: Request) -> Response:
    """GET lists the accounts (never their tokens); POST adds one until the next reset."""
    sim = sim_of(request)
    if request.method == "POST":
        try:
            account = new_account(await request.json(), sim.by_token, int(sim.new_id()))
        except ValueError as exc:  # bad JSON, or a ConfigError
            return error_response(422, "invalid_account", str(exc))
        sim.add_account(account)
        return JSONResponse(account_entity(account, base_url(request), 0))
    accounts = [account_entity(a, base_url(request), 0) for a in sim.by_token.values()]
    return JSONResponse({"accounts": accounts})


def _counts(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, int]:
    counts = {name: body[name] for name in names if name in body}
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts.values()):
        raise ConfigError(f"{', '.join(names)} must be counts (integers from 0)")
    return counts


async def sim_engagement(request: Request) -> Response:
    """Sets what others did: `{"statusId", "favourites"?, "reblogs"?, "quotes"?}` on a status,
    `{"accountId", "followers"?, "following"?}` on an account."""
    sim = sim_of(request)
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ConfigError("body must be an object")
        if "statusId" in body:
            status = sim.statuses.get(str(body["statusId"]))
            if status is None:
                return error_response(404, "not_found", "no such status")
            counts = _counts(body, ("favourites", "reblogs", "quotes"))
            status.favourites = counts.get("favourites", status.favourites)
            status.reblogs = counts.get("reblogs", status.reblogs)
            status.quotes = counts.get("quotes", status.quotes)
            return JSONResponse({"statusId": status.id, **counts})
        account_id = str(body.get("accountId", ""))
        counts = _counts(body, ("followers", "following"))
        before = sim.follows.get(account_id, (0, 0))
        sim.follows[account_id] = (
            counts.get("followers", before[0]),
            counts.get("following", before[1]),
        )
        return JSONResponse({"accountId": account_id, **counts})
    except ValueError as exc:  # bad JSON, or a ConfigError
        return error_response(422, "invalid_engagement", str(exc))
