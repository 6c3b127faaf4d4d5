"""Bluesky simulator: the repository (uploadBlob, createRecord with its faults, getRecord,
listRecords)."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.sim.bluesky_record import POST, validate_post
from herald.sim.bluesky_state import (
    BlueskySim,
    XrpcError,
    invalid,
    json_body,
    param,
    record_cid,
    repo_account,
)
from herald.sim.faults import REFUSALS, hold

_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_NSID = re.compile(r"[a-zA-Z](?:[a-zA-Z0-9-]*\.)+[a-zA-Z][a-zA-Z0-9]*")
_RKEY = re.compile(r"[A-Za-z0-9._:~-]{1,512}")
_INTERNAL = ("InternalServerError", "Internal Server Error")


async def upload_blob(request: Request, sim: BlueskySim) -> Response:
    did = sim.authenticate(request)
    limit = sim.config.blob_limit_bytes
    digest, size = hashlib.sha256(), 0
    # The whole body is read even when it is too large: answering mid-upload would leave the
    # client with a broken pipe instead of the 413.
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            digest.update(chunk)
    if size > limit:
        raise XrpcError(413, "PayloadTooLarge", "request entity too large")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    blob = sim.add_blob(did, digest.digest(), content_type or "application/octet-stream", size)
    return JSONResponse({"blob": blob.ref()})


async def create_record(request: Request, sim: BlueskySim) -> Response:
    did = sim.authenticate(request)
    body = await json_body(request)
    account = repo_account(sim, body.get("repo"))
    if account.did != did:
        raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
    collection, rkey, record = _write(sim, body)
    if collection == POST:
        validate_post(record, lambda cid: sim.blobs.get((did, cid)), sim.record_at)
    if sim.record(did, collection, rkey) is not None:
        # What @atproto/pds 0.5.35 answers for a taken key ("There is already a value at key"
        # appears only in its log): an opaque 500, not a 409.
        sim.duplicates += 1
        raise XrpcError(500, *_INTERNAL)
    # No await from the duplicate check to add_record(): two requests cannot both store.
    fault = sim.injector.next_fault(sim.config.behaviour.faults)
    if fault in REFUSALS:
        return await _refusal(request, sim, str(fault))
    stored = sim.add_record(did, collection, rkey, {**record, "$type": collection})
    if fault == "error_after_create":
        raise XrpcError(500, *_INTERNAL)
    if fault == "lost_response":
        await hold(request, sim.config.behaviour.hang_s)
    rev = sim.new_tid()
    commit = {"cid": record_cid({"rev": rev, "data": stored.cid}), "rev": rev}
    return JSONResponse(
        {"uri": stored.uri, "cid": stored.cid, "commit": commit, "validationStatus": "valid"}
    )


def _write(sim: BlueskySim, body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The collection, record key and record of a createRecord body, checked."""
    collection, record = body.get("collection"), body.get("record")
    if not isinstance(collection, str) or not _NSID.fullmatch(collection):
        raise invalid(f"Invalid collection: {collection!r}")
    rkey = body.get("rkey", sim.new_tid())
    if not isinstance(rkey, str) or not _RKEY.fullmatch(rkey) or rkey in (".", ".."):
        raise invalid(f"Invalid record key: {rkey!r}")
    if collection == POST and not _TID.fullmatch(rkey):
        raise invalid(f"Invalid record key for {POST}: Invalid TID string: {rkey}")
    if not isinstance(record, dict):
        raise invalid("Input/record must be an object")
    kind = record.get("$type", collection)
    if kind != collection:
        raise invalid(f"Invalid $type: expected {collection}, got {kind}")
    return collection, rkey, record


async def _refusal(request: Request, sim: BlueskySim, fault: str) -> Response:
    behaviour = sim.config.behaviour
    if fault == "rate_limit":
        limit = sim.config.rate_limit or 3000
        headers = {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(int(time.time()) + behaviour.retry_after_s),
            "RateLimit-Policy": f"{limit};w={sim.config.rate_window_s}",
        }
        raise XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
    if fault == "rejected":
        raise invalid("rejected by fault injection")
    if fault == "timeout":
        await hold(request, behaviour.hang_s)
        raise XrpcError(504, "UpstreamTimeout", "Upstream Timeout")
    raise XrpcError(503, "NotEnoughResources", "Service Unavailable")


async def get_record(request: Request, sim: BlueskySim) -> Response:
    if "authorization" in request.headers:
        sim.authenticate(request)  # optional, but a stale token is still refused
    account = repo_account(sim, param(request, "repo"))
    collection, rkey = param(request, "collection"), param(request, "rkey")
    stored = sim.record(account.did, collection, rkey)
    wanted_cid = request.query_params.get("cid")
    if stored is None or (wanted_cid and wanted_cid != stored.cid):
        uri = f"at://{account.did}/{collection}/{rkey}"
        raise XrpcError(400, "RecordNotFound", f"Could not locate record: {uri}")
    return JSONResponse(stored.wire())


async def list_records(request: Request, sim: BlueskySim) -> Response:
    account = repo_account(sim, param(request, "repo"))
    collection = param(request, "collection")
    limit_text = request.query_params.get("limit", "50")
    limit = int(limit_text) if limit_text.isascii() and limit_text.isdecimal() else 0
    if not 1 <= limit <= 100:
        raise invalid("limit must be an integer from 1 to 100")
    oldest_first = request.query_params.get("reverse") == "true"
    cursor = request.query_params.get("cursor")
    found = sorted(
        (r for r in sim.records.values() if (r.did, r.collection) == (account.did, collection)),
        key=lambda stored: stored.rkey,
        reverse=not oldest_first,  # newest (highest TID) first unless reversed
    )
    if cursor:
        found = [r for r in found if (r.rkey > cursor if oldest_first else r.rkey < cursor)]
    page = found[:limit]
    body: dict[str, object] = {"records": [stored.wire() for stored in page]}
    if len(found) > limit:
        body["cursor"] = page[-1].rkey
    return JSONResponse(body)
