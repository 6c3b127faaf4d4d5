"""The sandbox simulator: an in-memory platform with a realistic wire protocol and fault injection.

`B` is the base URL: `http://127.0.0.1:PORT` standalone, or the mount point when mounted under a
path (`http://127.0.0.1:8080/sim/sandbox`); returned URLs come from the request's host and root
path. /v1 needs `Authorization: Bearer <token>` only when `token` is configured (else 401
invalid_token). Either way the first bearer token (or none) that posts for an account owns it
(sim/sandbox_owners.py): another caller gets 401 invalid_token posting for it, no posts listing
it and 404 for its posts by id. Errors are `{"error": code, "message": text}`.

    POST B/v1/posts  {"account", "text", "replyTo"?, "ref"?, "media"?: [{"url", "kind",
                     "contentType", "alt"}]}, optional header `Idempotency-Key`
        200  {"id" (decimal string, increasing), "url": "B/p/<key>" (a random key per post, so
             pages cannot be found by counting ids), "account", "text", "replyTo",
             "ref", "idempotencyKey", "media", "createdAt" (ISO 8601, Z)}
        200  + `Idempotent-Replayed: true`: the account used the key within `idempotency_ttl_s`;
             the original post comes back, nothing is created and the body is not checked
        422  validation_failed: no account; text missing, not a string, blank or over 500
             graphemes; replyTo not a post of the account; ref not a string; media not a list
             of objects with a string url
    GET  B/v1/posts?account=A[&idempotencyKey=K][&ref=R]  200 {"posts": [...]}, oldest first
    GET  B/v1/posts/{id}  the post, or 404 not_found;   GET B/p/{key}  the post's HTML page

A create goes: latency, token, body, owner, replay, validation, fault, create; so replays and
invalid requests take no fault (a replay still waits the latency). The fault comes from the
script (FIFO, "ok" meaning none) or else from one draw over the configured probabilities:

    rate_limit          429 rate_limited, `Retry-After: retry_after_s`, `X-RateLimit-Remaining: 0`,
                        `X-RateLimit-Reset: <epoch s>`; nothing created
    unavailable         503 unavailable: documented as "nothing was created"
    error_after_create  the post is created, then 500 internal
    lost_response       the post is created (visible to lookup at once), then the answer is held
                        `hang_s` (less if the client hangs up first), then 200
    timeout             held `hang_s` (less if the client hangs up first), then 503; nothing created
    rejected            422 validation_failed "rejected by fault injection"

Answers a platform should not send but might: with `rate_limit_headers` set, a rate_limit answer
carries exactly those headers (say a `Retry-After` HTTP-date ten years ahead, or `-5`); with
`success_body` set, each fresh create's 200 carries that text as its body instead of the post
(the post is still created, and a replay still answers with it).

Control API (no latency, no token), served only when the app is created with `control`
(`herald sim`, tests); `herald serve` mounts it without unless HERALD_SANDBOX_CONTROL is set:

    GET|POST B/_sim/config  read | merge {"latency_ms", "latency_jitter_ms", "retry_after_s",
                            "hang_s", "idempotency_ttl_s", "token", "seed", "faults": {name: p},
                            "rate_limit_headers": {name: value} | null, "success_body": text | null,
                            "capacity": creates served at once, the rest queued before their
                            latency | null}
    POST B/_sim/script      {"faults": [name | "ok", ...]}, appended to the script
    GET  B/_sim/stats       {"requests" (creates), "lookups", "posts", "replays", "refs" (distinct),
                            "duplicates" (refs with more than one post), "faults": {name: n},
                            "peak" (the most creates under way at once), "held" (requests a
                            fault holds now)}
    GET  B/_sim/posts[?ref=R]  {"posts": [...]}
    POST B/_sim/release     answers every request a fault holds now ("timeout": its 503,
                            "lost_response": its 200), however long its `hang_s`; later ones are
                            held again. {"released": n}
    POST B/_sim/reset       clears posts, owners, script and stats, restores the config the app was
                            created with; ids keep increasing, so a stale id never names a new post
"""

from __future__ import annotations

import asyncio
import html
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from herald.domain.timestamps import format_timestamp
from herald.sim.control import base_url, control_routes, serve
from herald.sim.faults import (
    REFUSALS,
    Capacity,
    FaultInjector,
    Holds,
    SandboxConfig,
    config_wire,
    error_response,
    merge_config,
    refusal,
    token_refusal,
)
from herald.sim.sandbox_body import InvalidError, account_of, json_object, media_of, text_of
from herald.sim.sandbox_owners import AccountOwners, bearer_token

__all__ = ["SandboxConfig", "SandboxSim", "create_sandbox_app", "serve_sandbox"]


@dataclass(slots=True)
class SandboxPost:
    id: int
    account: str
    text: str
    reply_to: str | None
    ref: str | None
    idempotency_key: str | None
    media: list[dict[str, Any]]
    created_at: datetime
    created_monotonic: float
    page: str  # the public page's key

    def wire(self, base: str) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "url": f"{base}/p/{self.page}",
            "account": self.account,
            "text": self.text,
            "replyTo": self.reply_to,
            "ref": self.ref,
            "idempotencyKey": self.idempotency_key,
            "media": self.media,
            "createdAt": format_timestamp(self.created_at),
        }


class SandboxSim:
    """All simulator state, indexed so every request does O(1) work (benchmarks push 10,000+
    posts through it). One event loop owns it: code between awaits runs alone."""

    def __init__(self, config: SandboxConfig) -> None:
        self.initial_config = config
        self._next_id = 1
        self.reset()

    def reset(self) -> None:
        self.config = self.initial_config
        self.injector = FaultInjector(self.config.seed)
        self.posts: dict[int, SandboxPost] = {}
        self.pages: dict[str, SandboxPost] = {}
        self.owners = AccountOwners()
        self.by_account: defaultdict[str, list[SandboxPost]] = defaultdict(list)
        self.by_key: defaultdict[tuple[str, str], list[SandboxPost]] = defaultdict(list)
        self.by_ref: defaultdict[str, list[SandboxPost]] = defaultdict(list)
        self.requests = self.lookups = self.replays = self.duplicates = 0
        self.capacity = Capacity()
        self.holds = Holds()

    def configure(self, changes: object) -> None:
        config = merge_config(self.config, changes)
        if isinstance(changes, dict) and "seed" in changes:
            self.injector.reseed(config.seed)
        self.config = config

    def post(self, post_id: object) -> SandboxPost | None:
        # isascii: int() would also read other scripts' digits, and "٣" is not post 3.
        if not isinstance(post_id, str) or not (post_id.isascii() and post_id.isdecimal()):
            return None
        return self.posts.get(int(post_id))

    def replay(self, account: str, key: str) -> SandboxPost | None:
        # Only the newest post can hold a live key: an older one's key had expired when it came.
        posts = self.by_key.get((account, key))
        if not posts:
            return None
        newest = posts[-1]
        if time.monotonic() - newest.created_monotonic >= self.config.idempotency_ttl_s:
            return None
        return newest

    def add(self, draft: dict[str, Any]) -> SandboxPost:
        post = SandboxPost(
            id=self._next_id,
            **draft,
            created_at=datetime.now(UTC),
            created_monotonic=time.monotonic(),
            page=secrets.token_urlsafe(16),
        )
        self._next_id += 1
        self.posts[post.id] = post
        self.pages[post.page] = post
        self.by_account[post.account].append(post)
        if post.idempotency_key is not None:
            self.by_key[(post.account, post.idempotency_key)].append(post)
        if post.ref is not None:
            same_ref = self.by_ref[post.ref]
            same_ref.append(post)
            if len(same_ref) == 2:
                self.duplicates += 1
        return post

    def find(self, account: str, key: str | None, ref: str | None) -> list[SandboxPost]:
        if key is not None:
            found = self.by_key.get((account, key), [])
        elif ref is not None:
            found = self.by_ref.get(ref, [])
        else:
            found = self.by_account.get(account, [])
        return [post for post in found if post.account == account and ref in (None, post.ref)]

    def stats_wire(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "lookups": self.lookups,
            "posts": len(self.posts),
            "replays": self.replays,
            "refs": len(self.by_ref),
            "duplicates": self.duplicates,
            "peak": self.capacity.peak,
            "held": self.holds.held,
            "faults": dict(self.injector.counts),
        }


def _sim(request: Request) -> SandboxSim:
    sim: SandboxSim = request.app.state.sandbox
    return sim


def _posts(request: Request, posts: list[SandboxPost]) -> Response:
    base = base_url(request)
    return JSONResponse({"posts": [post.wire(base) for post in posts]})


async def _enter_api(request: Request) -> Response | None:
    """Latency, then the token check every /v1 route shares; a response means stop there."""
    sim = _sim(request)
    await asyncio.sleep(sim.injector.latency_s(sim.config))
    return token_refusal(request, sim.config)


def _draft(sim: SandboxSim, body: dict[str, Any], account: str, key: str | None) -> dict[str, Any]:
    reply_to, ref = body.get("replyTo"), body.get("ref")
    if reply_to is not None:
        parent = sim.post(reply_to)
        if parent is None or parent.account != account:
            raise InvalidError(f"replyTo {reply_to!r} is not a post of account {account!r}")
        reply_to = str(parent.id)
    if ref is not None and not isinstance(ref, str):
        raise InvalidError("ref must be a string or null")
    return {
        "account": account,
        "text": text_of(body),
        "reply_to": reply_to,
        "ref": ref,
        "idempotency_key": key,
        "media": media_of(body),
    }


async def create_post(request: Request) -> Response:
    sim = _sim(request)
    async with sim.capacity.serving(sim.config.capacity):
        return await _create_post(request)


async def _create_post(request: Request) -> Response:
    sim = _sim(request)
    sim.requests += 1
    if (stop := await _enter_api(request)) is not None:
        return stop
    key = request.headers.get("idempotency-key") or None
    try:
        body = await json_object(request)
        account = account_of(body)
        if not sim.owners.claim(account, bearer_token(request)):
            return _not_the_owner()
        # No await from the replay check to add(): two requests with one key cannot both create.
        original = sim.replay(account, key) if key is not None else None
        if original is not None:
            sim.replays += 1
            headers = {"Idempotent-Replayed": "true"}
            return JSONResponse(original.wire(base_url(request)), headers=headers)
        draft = _draft(sim, body, account, key)
    except InvalidError as exc:
        return error_response(422, "validation_failed", str(exc))
    fault = sim.injector.next_fault(sim.config.faults)
    if fault in REFUSALS:
        return await refusal(request, sim.config, str(fault), sim.holds)
    post = sim.add(draft)
    if fault == "error_after_create":
        return error_response(500, "internal", "Internal error")
    if fault == "lost_response":
        await sim.holds.hold(request, sim.config.hang_s)
    if sim.config.success_body is not None:
        return Response(sim.config.success_body, media_type="application/json")
    return JSONResponse(post.wire(base_url(request)))


async def list_posts(request: Request) -> Response:
    sim = _sim(request)
    sim.lookups += 1
    if (stop := await _enter_api(request)) is not None:
        return stop
    query = request.query_params
    account = query.get("account")
    if not account:
        return error_response(422, "validation_failed", "account is required")
    if not sim.owners.owns(account, bearer_token(request)):
        return _posts(request, [])  # as for an account with no posts: no oracle of which exist
    return _posts(request, sim.find(account, query.get("idempotencyKey"), query.get("ref")))


async def get_post(request: Request) -> Response:
    if (stop := await _enter_api(request)) is not None:
        return stop
    sim = _sim(request)
    post = sim.post(request.path_params["id"])
    if post is None or not sim.owners.owns(post.account, bearer_token(request)):
        return error_response(404, "not_found", "No such post")
    return JSONResponse(post.wire(base_url(request)))


async def public_page(request: Request) -> Response:
    post = _sim(request).pages.get(request.path_params["page"])
    if post is None:
        return HTMLResponse("<!doctype html><title>Not found</title><p>No such post.", 404)
    account, text = html.escape(post.account), html.escape(post.text)
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>@{account} on Sandbox</title>"
        f"<article><header>@{account} · {format_timestamp(post.created_at)}</header>"
        f"<p style='white-space:pre-wrap'>{text}</p></article>"
    )


async def sim_release(request: Request) -> Response:
    return JSONResponse({"released": _sim(request).holds.release()})


async def sim_posts(request: Request) -> Response:
    sim = _sim(request)
    ref = request.query_params.get("ref")
    return _posts(request, sim.by_ref.get(ref, []) if ref is not None else list(sim.posts.values()))


def _not_the_owner() -> Response:
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    message = "The access token does not own this account"
    return error_response(401, "invalid_token", message, challenge)


def create_sandbox_app(config: SandboxConfig | None = None, *, control: bool = True) -> Starlette:
    """A fresh simulator; its state is `app.state.sandbox` (a SandboxSim). `control` serves
    the /_sim/ routes, which list every account's posts and change the faults for everyone."""
    routes = [
        Route("/v1/posts", create_post, methods=["POST"]),
        Route("/v1/posts", list_posts, methods=["GET"]),
        Route("/v1/posts/{id}", get_post, methods=["GET"]),
        Route("/p/{page}", public_page, methods=["GET"]),
    ]
    if control:
        routes += [
            *control_routes(_sim, config_wire),
            Route("/_sim/posts", sim_posts, methods=["GET"]),
            Route("/_sim/release", sim_release, methods=["POST"]),
        ]
    app = Starlette(routes=routes)
    app.state.sandbox = SandboxSim(config or SandboxConfig())
    return app


def serve_sandbox(host: str, port: int, config: SandboxConfig | None = None) -> None:
    """Run the simulator until interrupted (`herald sim`)."""
    serve(create_sandbox_app(config), host, port)
