"""MastodonConnector: publishes to any Mastodon instance through its client API (herald.sim.mastodon
simulates the part used here).

Stored shapes: credentials `{"accessToken": "<token>"}` (an OAuth token with write:statuses,
write:media and read:accounts or profile; Mastodon tokens do not expire), options
`{"instanceUrl": "https://mastodon.social"}`. The connection's external id is the account id.

    verify   GET  /api/v1/accounts/verify_credentials  -> Profile: external id = `id`, username
                  `@<username>@<domain>` (Publora shows handles with an @; the domain tells
                  apart accounts of one name on different instances), display name, avatar,
                  profile url. The domain and the limits stored with the options
                  (maxCharacters, maxMediaAttachments) come from GET /api/v2/instance; an
                  instance without it gets the API's host and no limits.
    publish  for each media item: POST /api/v2/media, multipart `file` (streamed, chunked) and
                  `description` = alt text; 200 means processed, 202 means poll
                  GET /api/v1/media/{id} (206 processing, 200 done, 422 failed) every
                  1 s, 1.5 s, ... up to 5 s apart, for at most 120 s (ProcessingWait).
             then POST /api/v1/statuses {"status", "visibility": "public" (Publora posts are
                  always public), "media_ids"?, "in_reply_to_id"? = the previous part} with
                  `Idempotency-Key: <key>` always -> external id = status `id`, url = `url`.
    lookup   the account's recent statuses, matched on text, parent and media count (see
             herald.platforms.mastodon.lookup for the rule and its limits).

Mastodon keeps an Idempotency-Key for an hour after the status it created and answers a re-send
with that status, so within the hour a re-send with the same key is always safe. Media uploads
take no key: a retried publish uploads the files again, and earlier copies stay unattached until
Mastodon cleans them up. That is harmless.

Answers, as errors (Mastodon's are `{"error": "...", "error_description"?: "..."}`):

    429                    RetryableError(rate_limited) after X-RateLimit-Reset (ISO 8601 from
                           Mastodon, epoch seconds from some mocks) or Retry-After
    401                    AuthExpiredError "Mastodon refused the access token: <error>"
    403 scope/token        AuthExpiredError (a token without the needed scope)
    422 "requires an authenticated user"   AuthExpiredError (an app token for no user)
    403                    RejectedError: the account is disabled, suspended or unapproved
    400/404/410/413/422    RejectedError with Mastodon's message ("Validation failed: Text
                           character limit of 500 exceeded", a reply parent that is gone, ...)
    3xx                    RejectedError: instanceUrl is not where the API answers
    5xx, other             creating a status: OutcomeUnknownError, since the body went out and
                           Mastodon may have stored it before failing; the reconciler then
                           re-sends with the same key, which Mastodon replays, or looks it up.
                           Anything else (verify, media): RetryableError, as no status exists
    no connection          RetryableError (ConnectError, ConnectTimeout, PoolTimeout)
    no answer after sending  creating a status: OutcomeUnknownError; else RetryableError
    200, unreadable body   creating a status: OutcomeUnknownError; else RetryableError
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import (
    HttpClient,
)
from herald.platforms._http import cause, header_token
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
from herald.platforms.mastodon.api import MastodonApi, instance_url, published
from herald.platforms.mastodon.errors import error_for
from herald.platforms.mastodon.lookup import find_status
from herald.platforms.mastodon.media import ProcessingWait, upload_media
from herald.platforms.mastodon.profile import read_profile
from herald.platforms.mastodon.statistics import account_metrics, status_metrics


class MastodonConnector:
    platform: Platform = Platform.MASTODON
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=timedelta(hours=1), supports_lookup=True, threads=True
    )

    def __init__(self, processing_wait: ProcessingWait | None = None) -> None:
        self.processing_wait = processing_wait or ProcessingWait()

    async def verify(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> Profile:
        token = header_token(credentials)
        if token is None:
            raise RejectedError("A Mastodon connection needs an accessToken credential")
        return await read_profile(MastodonApi(client, instance_url(options), token))

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        api = _api(client, request)
        media_ids = [await upload_media(api, m, self.processing_wait) for m in request.media]
        body: dict[str, Any] = {"status": request.text, "visibility": "public"}
        if media_ids:
            body["media_ids"] = media_ids
        if request.reply_to_id is not None:
            body["in_reply_to_id"] = request.reply_to_id
        response = await api.send(
            "POST",
            "/api/v1/statuses",
            may_exist=True,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        if response.status_code != 200:
            raise error_for(response, api.token, "the status", may_exist=True)
        try:
            return published(response.json())
        except (ValueError, LookupError, TypeError):
            # A success status with a body we cannot read: the status most likely exists.
            message = "Mastodon answered success with an unreadable body; the status may exist"
            raise OutcomeUnknownError(message, http_status=response.status_code) from None

    async def post_metrics(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        posted_ids: Sequence[str],
    ) -> dict[str, PostMetrics | None]:
        return await status_metrics(_read_api(client, credentials, options), posted_ids)

    async def profile_metrics(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        account_external_id: str,
    ) -> ProfileMetrics:
        del account_external_id  # the token's own account is the connection's
        return await account_metrics(_read_api(client, credentials, options))

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        try:
            return await find_status(_api(client, request), request)
        except RetryableError:
            raise
        except PublishError as error:  # every lookup failure is temporary to the reconciler
            raise RetryableError(error.message, http_status=error.http_status) from None
        except (ValueError, LookupError, TypeError) as exc:
            message = f"Mastodon lookup got an answer it could not read ({cause(exc)})"
            raise RetryableError(message) from None


def _api(client: HttpClient, request: PublishRequest) -> MastodonApi:
    return _read_api(client, request.credentials, request.options)


def _read_api(
    client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
) -> MastodonApi:
    token = header_token(credentials)
    if token is None:
        raise AuthExpiredError("The Mastodon connection has no access token; reconnect it")
    return MastodonApi(client, instance_url(options), token)
