"""The simulator's account, instance and status endpoints, in Mastodon's order of checks."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from herald.domain.platform import Platform
from herald.domain.text import measure
from herald.sim.control import base_url
from herald.sim.faults import hold
from herald.sim.mastodon_config import MastodonAccount
from herald.sim.mastodon_entities import credential_account_entity, instance_entity, status_entity
from herald.sim.mastodon_http import (
    NOT_FOUND,
    ApiError,
    authenticate,
    enter,
    fault_rate_limit,
    respond,
    sim_of,
)
from herald.sim.mastodon_state import ASYNC_KINDS, MastodonSim, SimMedia, SimStatus

VISIBILITIES = ("public", "unlisted", "private", "direct")
IN_REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."
UNAVAILABLE = "The page could not be served due to a temporary server failure."
INTERNAL = "We're sorry, but something went wrong on our end."
PAGE_DEFAULT, PAGE_MAX = 20, 40


async def verify_credentials(request: Request) -> Response:
    account = await authenticate(request)
    sim = sim_of(request)
    sim.stats.account_reads += 1
    count = len(sim.by_account.get(account.id, []))
    follows = sim.follows.get(account.id, (0, 0))
    return respond(request, credential_account_entity(account, base_url(request), count, follows))


async def instance(request: Request) -> Response:
    await enter(request)
    sim = sim_of(request)
    entity = instance_entity(sim.config, base_url(request), request.url.netloc, len(sim.by_token))
    return respond(request, entity)


async def create_status(request: Request) -> Response:
    sim = sim_of(request)
    sim.stats.creates += 1
    account = await authenticate(request)
    key = request.headers.get("idempotency-key") or None
    if key is not None:
        sim.stats.keyed += 1
        sim.stats.keys.append(key)
    params = await _params(request)
    # Mastodon finds the parent in a before_action, so even a replay needs it to exist.
    parent = _parent(sim, params.get("in_reply_to_id"))
    # No await from the replay check to create(): two requests with one key cannot both create.
    original = sim.replay(account, key) if key is not None else None
    if original is not None:
        sim.stats.replays += 1
        return _status(request, original)
    draft = _draft(sim, account, params, parent, key)
    fault = sim.injector.next_fault(sim.config.common.faults)
    if fault is not None and fault != "error_after_create" and fault != "lost_response":
        raise await _refusal(request, fault)
    status = sim.create(draft)
    if fault == "error_after_create":
        raise ApiError(500, INTERNAL)
    if fault == "lost_response":
        await hold(request, sim.config.common.hang_s)
    return _status(request, status)


async def _refusal(request: Request, fault: str) -> ApiError:
    """The error of a fault that creates nothing."""
    if fault == "rate_limit":
        return fault_rate_limit(request)
    if fault == "rejected":
        return ApiError(422, "Validation failed: rejected by fault injection")
    if fault == "timeout":
        await hold(request, sim_of(request).config.common.hang_s)
    return ApiError(503, UNAVAILABLE)


async def get_status(request: Request) -> Response:
    sim_of(request).stats.status_reads += 1
    await enter(request)
    return _status(request, _existing(request))


async def status_context(request: Request) -> Response:
    await enter(request)
    status = _existing(request)
    ancestors: list[SimStatus] = []
    parent = status.in_reply_to
    while parent is not None:
        ancestors.insert(0, parent)
        parent = parent.in_reply_to
    descendants: list[SimStatus] = []
    pending = list(reversed(status.replies))
    while pending:  # depth first, each reply before its own replies, as Mastodon orders them
        reply = pending.pop()
        descendants.append(reply)
        pending.extend(reversed(reply.replies))
    base, names = base_url(request), _usernames(sim_of(request))
    return respond(
        request,
        {
            "ancestors": [status_entity(s, base, names) for s in ancestors],
            "descendants": [status_entity(s, base, names) for s in descendants],
        },
    )


async def account_statuses(request: Request) -> Response:
    """Newest first, paged by max_id / since_id / min_id, with a Link header for the next page."""
    sim = sim_of(request)
    sim.stats.timelines += 1
    await enter(request)
    account = sim.account(request.path_params["id"])
    if account is None:
        raise ApiError(404, NOT_FOUND)
    query = request.query_params
    page = _page(sim.by_account.get(account.id, []), account, query)
    base, names = base_url(request), _usernames(sim)
    response = respond(request, [status_entity(s, base, names) for s in page])
    if page:
        path = f"{base}/api/v1/accounts/{account.id}/statuses"
        older = urlencode({"limit": _limit(query.get("limit")), "max_id": page[-1].id})
        newer = urlencode({"limit": _limit(query.get("limit")), "min_id": page[0].id})
        response.headers["Link"] = f'<{path}?{older}>; rel="next", <{path}?{newer}>; rel="prev"'
    return response


def _page(
    statuses: list[SimStatus], account: MastodonAccount, query: QueryParams
) -> list[SimStatus]:
    limit = _limit(query.get("limit"))
    max_id, since_id, min_id = (_id(query.get(name)) for name in ("max_id", "since_id", "min_id"))
    chosen = [
        s
        for s in statuses
        if (max_id is None or int(s.id) < max_id)
        and (since_id is None or int(s.id) > since_id)
        and (min_id is None or int(s.id) > min_id)
        and _shown(s, account, query)
    ]
    # min_id pages forward from a point: the statuses just after it, still shown newest first.
    window = chosen[:limit] if min_id is not None else chosen[-limit:]
    return list(reversed(window))


def _shown(status: SimStatus, account: MastodonAccount, query: QueryParams) -> bool:
    parent = status.in_reply_to
    # exclude_replies keeps self-replies: a thread stays on its author's profile.
    if _flag(query.get("exclude_replies")) and parent and parent.account.id != account.id:
        return False
    return not (_flag(query.get("only_media")) and not status.media)


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


def _limit(value: str | None) -> int:
    if value is None or not (value.isascii() and value.isdecimal()):
        return PAGE_DEFAULT
    return max(1, min(PAGE_MAX, int(value)))


def _id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdecimal():
        return int(value)
    return None


def _existing(request: Request) -> SimStatus:
    status = sim_of(request).statuses.get(request.path_params["id"])
    if status is None:
        raise ApiError(404, NOT_FOUND)
    return status


def _status(request: Request, status: SimStatus) -> Response:
    sim = sim_of(request)
    return respond(request, status_entity(status, base_url(request), _usernames(sim)))


def _usernames(sim: MastodonSim) -> set[str]:
    return {account.username.lower() for account in sim.by_token.values()}


async def _params(request: Request) -> dict[str, Any]:
    """The parameters of a JSON or form-encoded body, as Rails reads either."""
    body = await request.body()
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params: dict[str, Any] = {k: v[-1] for k, v in fields.items() if not k.endswith("[]")}
        params.update({k[:-2]: v for k, v in fields.items() if k.endswith("[]")})
        return params
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        raise ApiError(400, "Error occurred while parsing request parameters") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "Error occurred while parsing request parameters")
    return parsed


def _parent(sim: MastodonSim, in_reply_to_id: object) -> SimStatus | None:
    if in_reply_to_id is None or in_reply_to_id == "":
        return None
    parent = sim.statuses.get(str(in_reply_to_id))
    if parent is None:
        raise ApiError(404, IN_REPLY_NOT_FOUND)
    return parent


def _draft(
    sim: MastodonSim,
    account: MastodonAccount,
    params: dict[str, Any],
    parent: SimStatus | None,
    key: str | None,
) -> dict[str, Any]:
    text, spoiler_text = _text(params.get("status")), _text(params.get("spoiler_text"))
    visibility = params.get("visibility") or "public"
    if visibility not in VISIBILITIES:
        raise ApiError(422, "Validation failed: Visibility is not included in the list")
    media = _attachments(sim, account, params.get("media_ids"))
    if not text.strip() and not media:
        raise ApiError(422, "Validation failed: Text can't be blank")
    limit = sim.config.max_characters
    # StatusLengthValidator: the text and the content warning count together.
    if measure(Platform.MASTODON, spoiler_text + text) > limit:
        raise ApiError(422, f"Validation failed: Text character limit of {limit} exceeded")
    return {
        "account": account,
        "text": text,
        "spoiler_text": spoiler_text,
        "visibility": visibility,
        "in_reply_to": parent,
        "media": media,
        "idempotency_key": key,
    }


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # Rails turns JSON numbers into text
    raise ApiError(422, "Validation failed: Text is invalid")


def _attachments(sim: MastodonSim, account: MastodonAccount, ids: object) -> list[SimMedia]:
    """PostStatusService#validate_media!: count, then existence, then mixing, then readiness."""
    if not isinstance(ids, list) or not ids:
        return []  # Rails drops a media_ids that is not an array
    wanted = [str(i) for i in ids]
    limit = sim.config.max_media_attachments
    if len(wanted) > limit:
        raise ApiError(422, f"Cannot attach more than {limit} files")
    found = [sim.media.get(media_id) for media_id in wanted]
    usable = [m for m in found if m and m.account_id == account.id and m.status_id is None]
    missing = [media_id for media_id in wanted if media_id not in {m.id for m in usable}]
    if missing:
        ids_text = ", ".join(missing)
        raise ApiError(422, f"Media {ids_text} not found or already attached to another post")
    if len(usable) > 1 and any(m.kind in ASYNC_KINDS for m in usable):
        raise ApiError(422, "Cannot attach a video to a post that already contains images")
    if any(m.processing() or m.failed for m in usable):
        raise ApiError(
            422, "Cannot attach files that have not finished processing. Try again in a moment!"
        )
    return usable
