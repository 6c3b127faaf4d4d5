"""The X simulator's own control endpoints under /_sim/: scripts, apps, users, tokens minted
without a browser, expiry and revocation, and what was created."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.sim.control import control_routes
from herald.sim.faults import ConfigError, error_response, script_entries
from herald.sim.x.config import SCOPES, app_wire, new_app, new_user, x_config_wire
from herald.sim.x.entities import timestamp
from herald.sim.x.http import sim_of
from herald.sim.x.state import TOKEN_FAULTS, SimTweet
from herald.sim.x.uploads import SimMedia

MEDIA_OUTCOMES = frozenset({"ok", "fail"})
UPLOAD_FAULTS = frozenset(
    {"ok", "unavailable", "timeout", "rate_limit", "lost_response", "error_after_create"}
)
TIMELINE_FAULTS = frozenset({"ok", "unavailable", "rate_limit"})
# What a minted token may do unless the caller says otherwise: everything Herald needs.
DEFAULT_SCOPE = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json() if await request.body() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ConfigError("body must be a JSON object")
    return body


def _list_of(body: dict[str, Any], name: str, allowed: frozenset[str]) -> list[str]:
    entries = body.get(name, [])
    if not isinstance(entries, list) or not all(entry in allowed for entry in entries):
        raise ConfigError(f"{name} must be a list of {', '.join(sorted(allowed))}")
    return entries


async def sim_script(request: Request) -> Response:
    """Appends `{"faults": [...]}` (tweet creates), `{"token": ["ok" | "unavailable" |
    "timeout" | "rate_limit" | "lost_response", ...]}` (token requests) and `{"media": ["ok" |
    "fail", ...]}` (finalized video and GIF processing), `{"upload": [...]}` (media upload
    calls, one entry each) and `{"timeline": ["ok" | "unavailable" | "rate_limit", ...]}` (a
    user's tweets, one entry a call), validated whole before any is applied."""
    sim = sim_of(request)
    try:
        body = await _body(request)
        if not {"faults", "token", "media", "upload", "timeline"} & body.keys():
            raise ConfigError(
                'script must hold "faults", "token", "media", "upload" and/or "timeline"'
            )
        faults = script_entries({"faults": body["faults"]}) if "faults" in body else []
        tokens = _list_of(body, "token", TOKEN_FAULTS)
        media = _list_of(body, "media", MEDIA_OUTCOMES)
        uploads = _list_of(body, "upload", UPLOAD_FAULTS)
        timeline = _list_of(body, "timeline", TIMELINE_FAULTS)
    except ValueError as exc:  # bad JSON, or a ConfigError
        return error_response(422, "invalid_script", str(exc))
    sim.injector.extend(faults)
    sim.token_script.extend(tokens)
    sim.media_script.extend(media)
    sim.upload_script.extend(uploads)
    sim.timeline_script.extend(timeline)
    return JSONResponse(
        {
            "faults": list(sim.injector.script),
            "token": list(sim.token_script),
            "media": list(sim.media_script),
            "upload": list(sim.upload_script),
            "timeline": list(sim.timeline_script),
        }
    )


async def sim_apps(request: Request) -> Response:
    """GET lists the registered apps (never their secrets); POST registers one until reset."""
    sim = sim_of(request)
    if request.method == "POST":
        try:
            app = new_app(await _body(request), sim.apps)
        except ValueError as exc:
            return error_response(422, "invalid_app", str(exc))
        sim.apps[app.client_id] = app
        return JSONResponse(app_wire(app))
    return JSONResponse({"apps": [app_wire(app) for app in sim.apps.values()]})


async def sim_users(request: Request) -> Response:
    """GET lists the users; POST adds one until reset."""
    sim = sim_of(request)
    if request.method == "POST":
        try:
            user = new_user(await _body(request), sim.users, sim.new_id())
        except ValueError as exc:
            return error_response(422, "invalid_user", str(exc))
        sim.users[user.id] = user
        return JSONResponse(_user_record(user.id, sim.users[user.id].username))
    records = [_user_record(u.id, u.username, u.name) for u in sim.users.values()]
    return JSONResponse({"users": records})


def _user_record(user_id: str, username: str, name: str = "") -> dict[str, str]:
    return {"id": user_id, "username": username, "name": name}


async def sim_tokens(request: Request) -> Response:
    """POST {"user_id", "client_id"?, "scope"?, "expires_in"?}: the token endpoint's answer
    for a grant made without the browser, so publishing tests need no consent page.
    `expires_in` (seconds) overrides `access_token_ttl_s` for this token."""
    sim = sim_of(request)
    try:
        body = await _body(request)
        user = sim.users.get(body.get("user_id", ""))
        if user is None:
            raise ConfigError("user_id must name a user")
        client_id = body.get("client_id", next(iter(sim.apps), ""))
        if client_id not in sim.apps:
            raise ConfigError("client_id must name a registered app")
        scope = body.get("scope", DEFAULT_SCOPE)
        scope = tuple(scope.split()) if isinstance(scope, str) else scope
        if not isinstance(scope, tuple | list) or not scope or not set(scope) <= SCOPES:
            raise ConfigError("scope must be known scopes, a string or a list")
        ttl = body.get("expires_in", sim.config.access_token_ttl_s)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ConfigError("expires_in must be a positive number of seconds")
    except ValueError as exc:
        return error_response(422, "invalid_request", str(exc))
    answer = sim.tokens.mint(sim.grant(user, client_id, tuple(scope)), float(ttl))
    return JSONResponse({**answer, "user_id": user.id})


async def sim_expire_tokens(request: Request) -> Response:
    """POST {"user_id"?}: the live access tokens (of one user) expire now; refresh tokens
    still work, as after two hours on X."""
    sim = sim_of(request)
    try:
        user_id = (await _body(request)).get("user_id")
    except ValueError as exc:
        return error_response(422, "invalid_request", str(exc))
    return JSONResponse({"expired": sim.tokens.expire(user_id)})


async def sim_revoke(request: Request) -> Response:
    """POST {"user_id", "client_id"?}: the user removed the app (or every app) in X's settings;
    its access and refresh tokens stop working."""
    sim = sim_of(request)
    try:
        body = await _body(request)
    except ValueError as exc:
        return error_response(422, "invalid_request", str(exc))
    if body.get("user_id") not in sim.users:
        return error_response(422, "invalid_request", "user_id must name a user")
    return JSONResponse(
        {"revoked": sim.tokens.revoke_grants(body["user_id"], body.get("client_id"))}
    )


async def sim_tweets(request: Request) -> Response:
    """Every tweet as stored, oldest first (optionally one user's), deleted ones included,
    with the text as sent (the API shows URLs wrapped as t.co links)."""
    sim = sim_of(request)
    user = request.query_params.get("user")
    tweets = [t for t in sim.tweets.values() if user in (None, t.author.id)]
    return JSONResponse({"tweets": [_tweet_record(t) for t in tweets]})


def _tweet_record(tweet: SimTweet) -> dict[str, Any]:
    return {
        "id": tweet.id,
        "author_id": tweet.author.id,
        "username": tweet.author.username,
        "client_id": tweet.client_id,
        "text": tweet.text,
        "in_reply_to_tweet_id": tweet.in_reply_to.id if tweet.in_reply_to else None,
        "quote_tweet_id": tweet.quoted.id if tweet.quoted else None,
        "media_ids": list(tweet.media_ids),
        "reply_settings": tweet.reply_settings,
        "created_at": timestamp(tweet.created_at),
        "deleted": tweet.deleted,
        "url": f"https://x.com/{tweet.author.username}/status/{tweet.id}",
    }


async def sim_media(request: Request) -> Response:
    media = sim_of(request).media.values()
    return JSONResponse({"media": [_media_record(m) for m in media]})


def _media_record(media: SimMedia) -> dict[str, Any]:
    return {
        "id": media.id,
        "media_key": media.key,
        "owner_id": media.owner_id,
        "media_category": media.category,
        "media_type": media.media_type,
        "total_bytes": media.total_bytes,
        "size": media.size,
        "segments": sorted(media.segments),
        "sha256": media.sha256(),
        "finalized": media.finalized,
        "alt_text": media.alt_text,
        "state": media.state(),
    }


async def sim_requests(request: Request) -> Response:
    """The JSON bodies received by POST /2/tweets, the upload initialize calls and
    POST /2/media/metadata, oldest first (the last 1,000): {"requests": [{"endpoint",
    "body"}]}."""
    return JSONResponse({"requests": list(sim_of(request).requests)})


CONTROL_ROUTES = [
    *control_routes(sim_of, x_config_wire, script=sim_script),
    Route("/_sim/apps", sim_apps, methods=["GET", "POST"]),
    Route("/_sim/users", sim_users, methods=["GET", "POST"]),
    Route("/_sim/tokens", sim_tokens, methods=["POST"]),
    Route("/_sim/expire-tokens", sim_expire_tokens, methods=["POST"]),
    Route("/_sim/revoke", sim_revoke, methods=["POST"]),
    Route("/_sim/tweets", sim_tweets, methods=["GET"]),
    Route("/_sim/media", sim_media, methods=["GET"]),
    Route("/_sim/requests", sim_requests, methods=["GET"]),
]
