"""Bluesky simulator state: accounts, sessions, blobs and records, rate windows and counters."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from herald.sim.bluesky_config import (
    BlueskyConfig,
    SimAccount,
    add_account,
    merge_bluesky_config,
)
from herald.sim.faults import FaultInjector, error_response

ACCESS_SCOPE = "com.atproto.appPass"  # a session made with an app password
REFRESH_SCOPE = "com.atproto.refresh"
SERVICE_DID = "did:web:localhost"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


class XrpcError(Exception):
    """An XRPC error answer: `{"error": name, "message": message}` with `status`."""

    def __init__(
        self, status: int, name: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.name, self.message, self.headers = status, name, message, headers

    def response(self) -> Response:
        return error_response(self.status, self.name, self.message, self.headers)


def invalid(message: str) -> XrpcError:
    return XrpcError(400, "InvalidRequest", message)


def _base32(digest: bytes) -> str:
    return base64.b32encode(digest).decode().lower().rstrip("=")


def blob_cid(data_digest: bytes) -> str:
    """CID-shaped (CIDv1, raw codec, sha-256, base32): the same bytes, the same CID."""
    return "bafkrei" + _base32(data_digest)[:52]


def record_cid(value: Any) -> str:
    """CID-shaped (CIDv1, dag-cbor, sha-256, base32) from the record's canonical JSON."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (
        "bafyrei"
        + _base32(hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest())[:52]
    )


@dataclass(slots=True)
class Token:
    did: str
    scope: str
    expires_at: float  # epoch seconds
    revoked: bool = False


@dataclass(slots=True)
class Blob:
    did: str
    cid: str
    mime_type: str
    size: int

    def ref(self) -> dict[str, Any]:
        return {
            "$type": "blob",
            "ref": {"$link": self.cid},
            "mimeType": self.mime_type,
            "size": self.size,
        }


@dataclass(slots=True)
class StoredRecord:
    did: str
    collection: str
    rkey: str
    cid: str
    value: dict[str, Any]
    created_at: datetime

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"

    def wire(self) -> dict[str, Any]:
        return {"uri": self.uri, "cid": self.cid, "value": self.value}


@dataclass(slots=True)
class _Window:
    started: float
    count: int = 0


class BlueskySim:
    """All simulator state. One event loop owns it: code between awaits runs alone."""

    def __init__(self, config: BlueskyConfig) -> None:
        self.initial_config = config
        self._last_tid_micros = 0
        self.reset()

    def reset(self) -> None:
        self.config = self.initial_config
        self.injector = FaultInjector(self.config.behaviour.seed)
        self.tokens: dict[str, Token] = {}
        self.blobs: dict[tuple[str, str], Blob] = {}
        self.records: dict[tuple[str, str, str], StoredRecord] = {}
        self.windows: dict[tuple[str, ...], _Window] = {}
        self.calls: Counter[str] = Counter()
        self.sessions_created = self.sessions_refreshed = 0
        self.rate_limited = self.duplicates = 0
        # What others did, set through /_sim/engagement: counts by post URI (likeCount,
        # replyCount, repostCount, quoteCount, bookmarkCount) and (followers, follows) by DID.
        self.engagement: dict[str, dict[str, int]] = {}
        self.follows: dict[str, tuple[int, int]] = {}

    def configure(self, changes: object) -> None:
        config = merge_bluesky_config(self.config, changes)
        if isinstance(changes, dict) and "seed" in changes:
            self.injector.reseed(config.behaviour.seed)
        self.config = config

    def add_account(self, entry: object) -> SimAccount:
        self.config, account = add_account(self.config, entry)
        return account

    def account(self, identifier: object) -> SimAccount | None:
        """By handle (any case) or DID."""
        if not isinstance(identifier, str):
            return None
        wanted = identifier.lower().removeprefix("@")
        for account in self.config.accounts:
            if account.did == identifier or account.handle == wanted:
                return account
        return None

    # Sessions

    def issue_session(self, account: SimAccount) -> dict[str, Any]:
        now = time.time()
        access = self._token(account.did, ACCESS_SCOPE, now, self.config.access_ttl_s)
        refresh = self._token(account.did, REFRESH_SCOPE, now, self.config.refresh_ttl_s)
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": account.handle,
            "did": account.did,
            "active": True,
        }

    def _token(self, did: str, scope: str, now: float, ttl_s: float) -> str:
        """JWT-shaped like a PDS's (header.payload.signature); only this simulator can read it."""
        kind = "refresh+jwt" if scope == REFRESH_SCOPE else "at+jwt"
        issued = int(now)
        claims = {"scope": scope, "sub": did, "aud": SERVICE_DID, "iat": issued}
        claims["exp"] = issued + int(ttl_s)
        parts = [{"typ": kind, "alg": "HS256"}, claims]
        encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in parts]
        signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=")
        token = b".".join([*encoded, signature]).decode()
        self.tokens[token] = Token(did, scope, now + ttl_s)
        return token

    def authenticate(self, request: Request, scope: str = ACCESS_SCOPE) -> str:
        """The DID of the request's bearer token, or the PDS's refusal."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
        entry = self.tokens.get(token.strip())
        status = self.config.token_error_status
        if entry is None:
            raise XrpcError(status, "InvalidToken", "Token could not be verified")
        if entry.revoked:
            raise XrpcError(status, "InvalidToken", "Token has been revoked")
        if entry.scope != scope:
            raise XrpcError(status, "InvalidToken", "Bad token scope")
        if entry.expires_at <= time.time():
            raise XrpcError(status, "ExpiredToken", "Token has expired")
        return entry.did

    def refresh(self, request: Request) -> dict[str, Any]:
        """A new pair for a valid refresh token, which is then spent (rotation)."""
        did = self.authenticate(request, REFRESH_SCOPE)
        token = request.headers["authorization"].partition(" ")[2].strip()
        self.tokens[token].revoked = True
        account = self.account(did)
        if account is None:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        self.sessions_refreshed += 1
        return self.issue_session(account)

    def expire_tokens(self, refresh: bool) -> dict[str, int]:
        expired = {"access": 0, "refresh": 0}
        for token in self.tokens.values():
            if token.scope == ACCESS_SCOPE or refresh:
                token.expires_at = 0.0
                expired["refresh" if token.scope == REFRESH_SCOPE else "access"] += 1
        return expired

    # Blobs and records

    def add_blob(self, did: str, digest: bytes, mime_type: str, size: int) -> Blob:
        blob = Blob(did, blob_cid(digest), mime_type, size)
        self.blobs[(did, blob.cid)] = blob
        return blob

    def record(self, did: str, collection: str, rkey: str) -> StoredRecord | None:
        return self.records.get((did, collection, rkey))

    def record_at(self, uri: object) -> StoredRecord | None:
        if not isinstance(uri, str) or not uri.startswith("at://"):
            return None
        parts = uri.removeprefix("at://").split("/")
        return self.record(*parts) if len(parts) == 3 else None

    def add_record(
        self, did: str, collection: str, rkey: str, value: dict[str, Any]
    ) -> StoredRecord:
        stored = StoredRecord(did, collection, rkey, record_cid(value), value, datetime.now(UTC))
        self.records[(did, collection, rkey)] = stored
        return stored

    def new_tid(self) -> str:
        """A fresh TID: the current microsecond, never repeated, and a random clock id."""
        micros = max(time.time_ns() // 1000, self._last_tid_micros + 1)
        self._last_tid_micros = micros
        value = (micros << 10) | secrets.randbelow(1024)
        return "".join(_TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))

    # Rate limits

    def take(self, key: tuple[str, ...], limit: int, window_s: int) -> tuple[bool, dict[str, str]]:
        """Count one request against a fixed window; (allowed, the RateLimit-* headers)."""
        now = time.time()
        window = self.windows.get(key)
        if window is None or now >= window.started + window_s:
            window = self.windows[key] = _Window(now)
        window.count += 1
        headers = {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(0, limit - window.count)),
            "RateLimit-Reset": str(math.ceil(window.started + window_s)),
            "RateLimit-Policy": f"{limit};w={window_s}",
        }
        return window.count <= limit, headers

    def stats_wire(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "sessions": {"created": self.sessions_created, "refreshed": self.sessions_refreshed},
            "records": len(self.records),
            "blobs": len(self.blobs),
            "duplicates": self.duplicates,
            "rate_limited": self.rate_limited,
            "faults": dict(self.injector.counts),
        }


def sim_of(request: Request) -> BlueskySim:
    sim: BlueskySim = request.app.state.bluesky
    return sim


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise invalid("Request body must be JSON") from None
    if not isinstance(body, dict):
        raise invalid("Input must be an object")
    return body


def param(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise invalid(f'Params must have the property "{name}"')
    return value


def repo_account(sim: BlueskySim, repo: object) -> SimAccount:
    account = sim.account(repo)
    if account is None:
        raise invalid(f"Could not find repo: {repo}")
    return account
