"""Bluesky simulator: sessions and identity (createSession, refreshSession, describeRepo,
getProfile, resolveHandle)."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.bluesky_record import POST
from herald.sim.bluesky_state import (
    BlueskySim,
    XrpcError,
    invalid,
    json_body,
    param,
    repo_account,
)
from herald.sim.control import base_url


async def create_session(request: Request, sim: BlueskySim) -> Response:
    body = await json_body(request)
    identifier, password = body.get("identifier"), body.get("password")
    if not isinstance(identifier, str) or not isinstance(password, str):
        raise invalid('Input must have the properties "identifier" and "password"')
    headers: dict[str, str] = {}
    limit = sim.config.session_limit
    if limit is not None:
        # The PDS counts logins per identifier and address, whether the password is right or not.
        client = request.client.host if request.client else "unknown"
        key = ("createSession", identifier.lower(), client)
        allowed, headers = sim.take(key, limit, sim.config.session_window_s)
        if not allowed:
            sim.rate_limited += 1
            raise XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
    account = sim.account(identifier)
    given, expected = password.encode(), (account.app_password if account else "").encode()
    if account is None or not secrets.compare_digest(given, expected):
        raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password", headers)
    sim.sessions_created += 1
    return JSONResponse(sim.issue_session(account), headers=headers)


async def refresh_session(request: Request, sim: BlueskySim) -> Response:
    return JSONResponse(sim.refresh(request))


async def describe_repo(request: Request, sim: BlueskySim) -> Response:
    account = repo_account(sim, param(request, "repo"))
    collections = sorted({collection for did, collection, _ in sim.records if did == account.did})
    did_doc = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": account.did,
        "alsoKnownAs": [f"at://{account.handle}"],
        "service": [
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": base_url(request),
            }
        ],
    }
    return JSONResponse(
        {
            "handle": account.handle,
            "did": account.did,
            "didDoc": did_doc,
            "collections": collections,
            "handleIsCorrect": True,
        }
    )


async def get_profile(request: Request, sim: BlueskySim) -> Response:
    sim.authenticate(request)
    if not sim.config.appview:
        # A bare PDS proxies app.bsky.* to an AppView it does not have.
        raise XrpcError(502, "UpstreamFailure", "Upstream Failure")
    account = sim.account(param(request, "actor"))
    if account is None:
        raise invalid("Profile not found")
    posts = sum(1 for did, collection, _ in sim.records if (did, collection) == (account.did, POST))
    profile = {
        "did": account.did,
        "handle": account.handle,
        "followersCount": sim.follows.get(account.did, (0, 0))[0],
        "followsCount": sim.follows.get(account.did, (0, 0))[1],
        "postsCount": posts,
        "labels": [],
    }
    if account.display_name:
        profile["displayName"] = account.display_name
    if account.avatar:
        profile["avatar"] = account.avatar
    return JSONResponse(profile)


async def resolve_handle(request: Request, sim: BlueskySim) -> Response:
    handle = param(request, "handle").lower()
    account = sim.account(handle) if not handle.startswith("did:") else None
    if account is None:
        raise invalid("Unable to resolve handle")
    return JSONResponse({"did": account.did})
