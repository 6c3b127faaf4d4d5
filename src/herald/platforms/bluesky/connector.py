"""BlueskyConnector: publishes to an AT Protocol PDS over XRPC, with Herald's HTTP client.

A connection stores credentials {"identifier": handle or DID, "appPassword"} and options
{"pdsUrl"} (https://bsky.social when absent) plus {"handle"}, learnt by verify; its external id is
the account's DID. Sessions are cached and renewed in session.py; facets, media and record keys
have their own modules. The calls, in order:

verify   createSession (always a fresh one), `GET com.atproto.repo.describeRepo?repo=<did>` for
         the handle, then `GET app.bsky.actor.getProfile?actor=<did>` for the display name and
         avatar; a bare PDS has no AppView and answers that one 502, which is tolerated.
publish  one thread part:
         1. media checked (1-4 images or one video); rkey = a TID derived from the idempotency key
         2. the account's session; `GET com.atproto.identity.resolveHandle?handle=` per mention
            (a handle that does not resolve gets no facet)
         3. blobs uploaded; for a reply, `getRecord` of root_id and reply_to_id for their cids
         4. `POST com.atproto.repo.createRecord {"repo": did, "collection": "app.bsky.feed.post",
            "rkey", "record"}` → 200 {"uri", "cid"} → Published(uri, bsky.app URL)
lookup   `GET com.atproto.repo.getRecord?repo=<did>&collection=app.bsky.feed.post&rkey=<rkey>`
         200 → Published; 400 RecordNotFound → None; anything else → RetryableError. It uses the
         cached session when there is one, else none (getRecord needs none), so a revoked app
         password cannot keep an in-doubt post in doubt.

Why a re-send is safe, and what an unclear answer means. The record key is chosen here and is the
same on every attempt, and a PDS stores at most one record per key: a second createRecord at a
taken key fails with HTTP 500 InternalServerError (verified on @atproto/pds 0.5.35), not a clean
409. So when createRecord answers 5xx, anything but 2xx/4xx, or no answer at all after the request
went out (timeout, reset), getRecord on the key decides:
  - the record exists → Published (it is this part's: its key derives from this part's
    idempotency key), which also turns the PDS's "duplicate" 500 into the success it is;
  - it does not → RetryableError. A request still in flight that lands later cannot cause a
    duplicate: every re-send names the same key and can only find the record there;
  - getRecord fails as well → OutcomeUnknownError, for the reconciler's lookup to settle.
No getRecord precedes createRecord: the PDS's refusal of a taken key already tells a re-send
apart, so a first send costs one write and no read. A re-send uploads its blobs again, which is
harmless (they are content-addressed: the PDS keeps one copy). Failures before the request left
(ConnectError, ConnectTimeout, PoolTimeout) are RetryableError.
Since the key never expires, capabilities.idempotency_ttl is effectively unbounded (ten years):
the reconciler may always re-send with it.

Refusals map as xrpc.py describes: 400 → RejectedError with the PDS's message; 401, or
ExpiredToken/InvalidToken after one renewal → AuthExpiredError; 413 → RejectedError;
429 → RetryableError(rate_limited, retry_after from RateLimit-Reset).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from herald.domain.platform import Platform
from herald.domain.timestamps import utc_now
from herald.net.http_client import (
    HttpClient,
    HttpError,
    HttpResponse,
    NotSent,
)
from herald.platforms.base import (
    AuthExpiredError,
    Capabilities,
    OutcomeUnknownError,
    PostMetrics,
    Profile,
    ProfileMetrics,
    Published,
    PublishError,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.bluesky import statistics
from herald.platforms.bluesky.facets import facets, find_spans, mentioned_handles
from herald.platforms.bluesky.media import Opener, check_media, embed_for
from herald.platforms.bluesky.record_key import record_key
from herald.platforms.bluesky.records import (
    POST_COLLECTION,
    RecordRef,
    languages,
    post_record,
    post_url,
)
from herald.platforms.bluesky.session import Account, Session, SessionCache, account_of
from herald.platforms.bluesky.xrpc import (
    Pds,
    XrpcError,
    failure,
    pds_url,
    stale_session,
    unreachable,
)

UPLOAD_BLOB = "com.atproto.repo.uploadBlob"
CREATE_RECORD = "com.atproto.repo.createRecord"
GET_RECORD = "com.atproto.repo.getRecord"
DESCRIBE_REPO = "com.atproto.repo.describeRepo"
GET_PROFILE = "app.bsky.actor.getProfile"
RESOLVE_HANDLE = "com.atproto.identity.resolveHandle"


class BlueskyConnector:
    platform: Platform = Platform.BLUESKY
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=timedelta(days=3650), supports_lookup=True, threads=True
    )

    def __init__(self) -> None:
        self.sessions = SessionCache()

    async def verify(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> Profile:
        pds = Pds(client, pds_url(options))
        account = account_of(credentials, pds.base_url)
        session = await self.sessions.fresh_login(pds, account)
        handle = await _repo_handle(pds, session, account)
        display_name, avatar = await _profile_facts(pds, session)
        return Profile(
            external_id=session.did,
            username=f"@{handle}",
            display_name=display_name or handle,
            profile_image_url=avatar,
            profile_url=f"https://bsky.app/profile/{handle}",
            options={"handle": handle},
        )

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        pds = Pds(client, pds_url(request.options))
        account = account_of(request.credentials, pds.base_url)
        check_media(request.media)
        spans = find_spans(request.text)
        session = await self.sessions.session(pds, account)
        did = _connected_did(session, account, request)
        ref = RecordRef(did, POST_COLLECTION, record_key(idempotency_key, request.scheduled_at))
        dids = await _resolve_handles(pds, mentioned_handles(spans))

        async def upload(opener: Opener, content_type: str, subject: str) -> dict[str, Any]:
            return await self._upload(pds, account, opener, content_type, subject)

        record = post_record(
            request.text,
            utc_now(),
            langs=languages(request.settings),
            facets=facets(spans, dids),
            embed=await embed_for(request.media, upload),
            reply=await self._reply(pds, account, request),
        )
        return await self._create(pds, account, ref, record, _profile(request, did))

    async def post_metrics(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        posted_ids: Sequence[str],
    ) -> dict[str, PostMetrics | None]:
        pds = Pds(client, pds_url(options))
        account = account_of(credentials, pds.base_url)
        return await statistics.post_metrics(self.sessions, pds, account, posted_ids)

    async def profile_metrics(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        account_external_id: str,
    ) -> ProfileMetrics:
        pds = Pds(client, pds_url(options))
        account = account_of(credentials, pds.base_url)
        return await statistics.profile_metrics(self.sessions, pds, account, account_external_id)

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        try:
            pds = Pds(client, pds_url(request.options))
            account = account_of(request.credentials, pds.base_url)
            did = request.account_external_id
            ref = RecordRef(did, POST_COLLECTION, record_key(idempotency_key, request.scheduled_at))
            return await self._find(pds, account, ref, _profile(request, did))
        except PublishError as error:
            # Every lookup failure is temporary to the reconciler: it asks again later.
            message = f"Bluesky lookup failed: {error.message}"
            raise RetryableError(message, http_status=error.http_status) from None

    async def _create(
        self, pds: Pds, account: Account, ref: RecordRef, record: dict[str, Any], profile: str
    ) -> Published:
        body = {"repo": ref.did, "collection": ref.collection, "rkey": ref.rkey, "record": record}

        async def send(session: Session) -> HttpResponse:
            return await pds.post(CREATE_RECORD, token=session.access_jwt, json=body)

        try:
            session, response = await self.sessions.call(pds, account, send)
        except NotSent as exc:
            raise unreachable(exc) from None
        except HttpError as exc:
            cause = f"No answer from Bluesky ({exc.kind})"
            return await self._confirm(pds, account, ref, profile, cause, None)
        status = response.status_code
        if 200 <= status < 300:
            uri = _response_text(response, "uri")
            if uri is not None:
                return Published(uri, post_url(profile, ref.rkey))
            cause = "Bluesky answered success with an unreadable body"
            return await self._confirm(pds, account, ref, profile, cause, status)
        error = XrpcError.of(response)
        if 400 <= status < 500:
            raise failure(error, "the post", session.secrets(account))
        # Also the PDS's answer to a second record at this key: the post may be there already.
        cause = f"Bluesky answered HTTP {status} ({error.detail(session.secrets(account))})"
        return await self._confirm(pds, account, ref, profile, cause, status)

    async def _confirm(
        self,
        pds: Pds,
        account: Account,
        ref: RecordRef,
        profile: str,
        cause: str,
        status: int | None,
    ) -> Published:
        try:
            found = await self._find(pds, account, ref, profile)
        except PublishError:
            message = f"{cause}; checking whether the post exists failed too"
            raise OutcomeUnknownError(message, http_status=status) from None
        if found is not None:
            return found
        message = f"{cause}; the post was not created, and sending it again cannot duplicate it"
        raise RetryableError(message, http_status=status)

    async def _find(
        self, pds: Pds, account: Account, ref: RecordRef, profile: str
    ) -> Published | None:
        try:
            response = await self._get_record(pds, account, ref)
        except HttpError as exc:
            raise unreachable(exc) from None
        if response.status_code == 200:
            uri = _response_text(response, "uri")
            if uri is None:
                raise RetryableError("Bluesky answered getRecord with an unreadable body")
            return Published(uri, post_url(profile, ref.rkey))
        error = XrpcError.of(response)
        if error.name == "RecordNotFound":
            return None
        raise failure(error, "the post lookup", _secrets(self.sessions, account))

    async def _get_record(self, pds: Pds, account: Account, ref: RecordRef) -> HttpResponse:
        params = {"repo": ref.did, "collection": ref.collection, "rkey": ref.rkey}
        session = self.sessions.cached(account)
        if session is not None:
            response = await pds.get(GET_RECORD, params, token=session.access_jwt)
            if not stale_session(response):
                return response
        return await pds.get(GET_RECORD, params)  # getRecord needs no session

    async def _reply(
        self, pds: Pds, account: Account, request: PublishRequest
    ) -> dict[str, Any] | None:
        if request.reply_to_id is None:
            return None
        parent = await self._strong_ref(pds, account, request.reply_to_id)
        if request.root_id is None or request.root_id == request.reply_to_id:
            return {"root": parent, "parent": parent}
        root = await self._strong_ref(pds, account, request.root_id)
        return {"root": root, "parent": parent}

    async def _strong_ref(self, pds: Pds, account: Account, uri: str) -> dict[str, str]:
        ref = RecordRef.parse(uri)
        if ref is None:
            raise RejectedError(f"This part replies to {uri!r}, which is not a Bluesky post URI")
        try:
            response = await self._get_record(pds, account, ref)
        except HttpError as exc:
            raise unreachable(exc) from None
        if response.status_code == 200:
            found_uri, cid = _response_text(response, "uri"), _response_text(response, "cid")
            if found_uri is None or cid is None:
                raise RetryableError("Bluesky answered getRecord with an unreadable body")
            return {"uri": found_uri, "cid": cid}
        error = XrpcError.of(response)
        if error.name == "RecordNotFound":
            raise RejectedError(f"The post this part replies to is gone from Bluesky: {uri}")
        raise failure(error, "the lookup of the post replied to", _secrets(self.sessions, account))

    async def _upload(
        self, pds: Pds, account: Account, opener: Opener, content_type: str, subject: str
    ) -> dict[str, Any]:
        async def send(session: Session) -> HttpResponse:
            return await pds.post(
                UPLOAD_BLOB, token=session.access_jwt, content=opener(), content_type=content_type
            )

        try:
            session, response = await self.sessions.call(pds, account, send)
        except HttpError as exc:
            raise unreachable(exc) from None  # an upload creates no post: safe to try again
        if response.status_code != 200:
            raise failure(XrpcError.of(response), subject, session.secrets(account))
        try:
            blob = response.json()["blob"]
            if not isinstance(blob, dict) or not isinstance(blob.get("ref"), dict):
                raise TypeError("blob must be an object with a ref")
        except (ValueError, LookupError, TypeError):
            raise RetryableError(f"Bluesky answered {subject} with an unreadable body") from None
        return blob


async def _repo_handle(pds: Pds, session: Session, account: Account) -> str:
    try:
        response = await pds.get(DESCRIBE_REPO, {"repo": session.did})
    except HttpError as exc:
        raise unreachable(exc) from None
    if response.status_code != 200:
        raise failure(XrpcError.of(response), "the account lookup", session.secrets(account))
    handle = _response_text(response, "handle")
    if handle is None:
        raise RetryableError("Bluesky answered describeRepo with an unreadable body")
    return handle


async def _profile_facts(pds: Pds, session: Session) -> tuple[str, str]:
    """(display name, avatar URL), or empty strings when no AppView answers (a bare PDS)."""
    try:
        response = await pds.get(GET_PROFILE, {"actor": session.did}, token=session.access_jwt)
        body = response.json() if response.status_code == 200 else {}
    except (HttpError, ValueError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    name, avatar = body.get("displayName"), body.get("avatar")
    return (
        name.strip() if isinstance(name, str) else "",
        avatar if isinstance(avatar, str) else "",
    )


async def _resolve_handles(pds: Pds, handles: list[str]) -> dict[str, str]:
    dids = {}
    for handle in handles:
        try:
            response = await pds.get(RESOLVE_HANDLE, {"handle": handle})
        except HttpError as exc:
            raise unreachable(exc) from None
        if response.status_code == 400:
            continue  # no such handle: the mention stays plain text
        if response.status_code != 200:
            raise failure(XrpcError.of(response), f"the lookup of @{handle}", ())
        did = _response_text(response, "did")
        if did is not None and did.startswith("did:"):
            dids[handle] = did
    return dids


def _connected_did(session: Session, account: Account, request: PublishRequest) -> str:
    expected = request.account_external_id
    if expected and session.did != expected:
        # The handle now names another account: posting would go to the wrong one.
        raise AuthExpiredError(
            f"The Bluesky login {account.identifier} now belongs to {session.did}, not to the "
            f"connected account {expected}; reconnect it"
        )
    return session.did


def _profile(request: PublishRequest, did: str) -> str:
    handle = request.options.get("handle")
    return handle if isinstance(handle, str) and handle else did


def _response_text(response: HttpResponse, name: str) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def _secrets(sessions: SessionCache, account: Account) -> tuple[str, ...]:
    session = sessions.cached(account)
    return session.secrets(account) if session is not None else (account.password,)
