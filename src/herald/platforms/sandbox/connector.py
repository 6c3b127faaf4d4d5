"""SandboxConnector: publishes to the sandbox simulator's wire protocol (see herald.sim.sandbox).

The connection option `baseUrl` names the simulator; an optional credential `token` is sent as a
bearer token. Every outcome maps onto the error taxonomy of herald.platforms.base.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient, HttpError, HttpResponse, InvalidUrl
from herald.platforms._http import (
    bounded,
    cause,
    redact,
    retry_after_seconds,
    transport_failures,
)
from herald.platforms.base import (
    AuthExpiredError,
    Capabilities,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishError,
    PublishRequest,
    RejectedError,
    RetryableError,
)

_REJECTED = frozenset({400, 404, 409, 422})
_AUTH = frozenset({401, 403})
_BAD_URL = "The sandbox connection's baseUrl is not a valid URL"


class SandboxConnector:
    platform: Platform = Platform.SANDBOX
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=timedelta(hours=1), supports_lookup=True, threads=True
    )

    async def verify(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> Profile:
        """The sandbox has no accounts: any name works. A new connection gets a fresh one,
        after checking the simulator answers and accepts the token."""
        probe = PublishRequest(
            target_id="",
            platform=self.platform,
            account_external_id="",
            options=options,
            credentials=credentials,
            text="",
        )
        profile = new_sandbox_profile()
        try:
            response = await client.get(
                f"{_base_url(probe)}/v1/posts",
                params={"account": profile.external_id},
                headers=_auth_headers(probe),
            )
        except HttpError as exc:
            raise RetryableError(f"Could not reach the sandbox ({exc.kind})") from None
        if response.status_code != 200:
            raise _error_for(response.status_code, response, _token(probe))
        return profile

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        url = f"{_base_url(request)}/v1/posts"
        headers = {**_auth_headers(request), "Idempotency-Key": idempotency_key}
        with transport_failures("the sandbox", "post", _BAD_URL, may_exist=True):
            response = await client.post(url, json=_body(request), headers=headers)
        return _published_or_raise(response, _token(request))

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        url = f"{_base_url(request)}/v1/posts"
        params = {"account": request.account_external_id, "idempotencyKey": idempotency_key}
        try:
            response = await client.get(url, params=params, headers=_auth_headers(request))
        except (HttpError, InvalidUrl) as exc:
            # Every lookup failure is temporary to the reconciler: it asks again later.
            raise RetryableError(f"Sandbox lookup failed ({cause(exc)})") from None
        if not response.is_success:
            status = response.status_code
            raise RetryableError(f"Sandbox lookup failed (HTTP {status})", http_status=status)
        try:
            posts = response.json()["posts"]
            return _published(posts[0]) if posts else None
        except (ValueError, LookupError, TypeError) as exc:
            raise RetryableError(f"Sandbox lookup failed ({cause(exc)})") from None


def new_sandbox_profile() -> Profile:
    """The sandbox has no accounts: a new connection gets a name of its own."""
    external_id = secrets.token_hex(6)
    return Profile(external_id, f"@sandbox_{external_id[:6]}", "Herald Sandbox")


def _base_url(request: PublishRequest) -> str:
    base = request.options.get("baseUrl")
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise RejectedError(
            "The sandbox connection has no baseUrl option (an http:// or https:// URL); "
            "reconnect it with the simulator's address"
        )
    return base.rstrip("/")


def _token(request: PublishRequest) -> str | None:
    token = request.credentials.get("token")
    return token if isinstance(token, str) and token else None


def _auth_headers(request: PublishRequest) -> dict[str, str]:
    token = _token(request)
    return {"Authorization": f"Bearer {token}"} if token else {}


def _body(request: PublishRequest) -> dict[str, Any]:
    return {
        "account": request.account_external_id,
        "text": request.text,
        "replyTo": request.reply_to_id,
        # Target and part: tells a duplicate (two posts for one part) from a thread.
        "ref": f"{request.target_id}:{request.part_index}",
        "media": [
            {"url": m.url, "kind": m.kind, "contentType": m.content_type, "alt": m.alt_text}
            for m in request.media
        ],
    }


def _published_or_raise(response: HttpResponse, token: str | None) -> Published:
    status = response.status_code
    if status in (200, 201):
        try:
            return _published(response.json())
        except (ValueError, LookupError, TypeError):
            # A success status with a body we cannot read: the post most likely exists.
            message = "The sandbox answered success with an unreadable body; the post may exist"
            raise OutcomeUnknownError(message, http_status=status) from None
    raise _error_for(status, response, token)


def _error_for(status: int, response: HttpResponse, token: str | None) -> PublishError:
    if status == 429:
        return RetryableError.rate_limit(
            "Rate limited by the sandbox", retry_after_seconds(response.headers), status
        )
    if status == 503:  # the sandbox documents 503 as "nothing was created"
        retry_after = retry_after_seconds(response.headers)
        return RetryableError(
            "The sandbox is unavailable", retry_after=retry_after, http_status=503
        )
    detail = _platform_message(response, token)
    if status in _AUTH:
        return AuthExpiredError(
            f"The sandbox refused the credentials: {detail}", http_status=status
        )
    if status in _REJECTED:
        return RejectedError(f"The sandbox rejected the post: {detail}", http_status=status)
    return OutcomeUnknownError(
        f"The sandbox answered HTTP {status}; the post may exist", http_status=status
    )


def _platform_message(response: HttpResponse, token: str | None) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, Mapping) else None
    if not isinstance(message, str) or not message:
        message = f"HTTP {response.status_code}"
    # Shown to the post's owner in get-post: one short line, whatever the body held.
    return bounded(redact(message, token))


def _published(post: Any) -> Published:
    external_id = post["id"]
    if not isinstance(external_id, str) or not external_id:
        raise TypeError("post id must be a non-empty string")
    url = post.get("url")
    return Published(external_id=external_id, url=url if isinstance(url, str) else None)
