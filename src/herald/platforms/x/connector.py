"""XConnector: publishes tweets through X's API v2 with an OAuth 2.0 user token
(herald.sim.x simulates the part used here).

Stored shapes: credentials `{"accessToken", "refreshToken", "expiresAt", "scope"}` (sealed;
herald.oauth keeps them fresh: a token needs tweet.read tweet.write users.read media.write
offline.access), options `{"apiUrl": "https://api.x.com", "username"}` (the username, learnt by
verify, makes tweet URLs `https://x.com/<username>/status/<id>`; without it they read
`https://x.com/i/web/status/<id>`). The connection's external id is the user id.

    verify   GET /2/users/me?user.fields=profile_image_url -> Profile: external id `id`,
             username `@<username>`, display name `name`, avatar, https://x.com/<username>.
    publish  media checked (sizes), then per file (media.py): POST /2/media/upload/initialize
             {media_type, total_bytes, media_category}, POST /2/media/upload/{id}/append
             (multipart `segment_index` + `media`, 4 MiB chunks), POST .../{id}/finalize, and
             while `processing_info.state` is pending or in_progress GET
             /2/media/upload?command=STATUS&media_id= after `check_after_secs`; alt text by
             POST /2/media/metadata (a description X refuses with a 4xx is left out; the
             image still goes). Then POST /2/tweets {"text", "media"?: {"media_ids"},
             "reply"?: {"in_reply_to_tweet_id"}: the previous part, or the replyTo setting for
             the first part, "quote_tweet_id"?: the quoteTweet setting, first part only}
             -> 201 {"data": {"id", "text"}} -> Published(id, tweet URL).
    lookup   the account's recent tweets, matched on text, reply parent, quoted tweet and media
             count (herald.platforms.x.lookup has the rule and its limits).

X takes no idempotency key (capabilities.idempotency_ttl is None), so a re-send is never blind:
when the outcome of POST /2/tweets is unknown the engine's reconciler runs lookup, and sends
again only when lookup says the tweet is not there. X itself refuses a second tweet with the same
text as a recent one (403 "duplicate content"); that answer to a re-send is checked by a lookup
too: the tweet found is this part's (an earlier attempt created it, and the timeline had not
shown it yet), and if none is found yet the error is retryable, since a tweet the timeline does
not show yet is indistinguishable from none, until it shows.

Answers, as errors (errors.py; X's are problem+json):

    429                       RetryableError(rate_limited), waiting until x-rate-limit-reset,
                              or the 24-hour cap's reset when x-user/app-limit-24hour-remaining
                              is 0
    401, unsupported-authentication  AuthExpiredError: the engine refreshes the token once and
                              sends again (a 401 means nothing was created)
    403 duplicate content     lookup as above; else RetryableError (publish) / RejectedError
                              DUPLICATE_CONTENT (media and verify never see it)
    403 reply/quote not allowed  RejectedError X_REPLY_NOT_AUTHORIZED
    403 "deleted or not visible", or 400/403/404 naming reply.in_reply_to_tweet_id or
                              quote_tweet_id: RejectedError X_TARGET_REJECTED
    other 403, 400/404/409/410/413/415/422  RejectedError with X's detail
    3xx                       RejectedError: apiUrl is not where the API answers
    5xx, other                POST /2/tweets: OutcomeUnknownError, the body went out and X may
                              have stored the tweet; anything else: RetryableError
    no connection             RetryableError (the request never left)
    no answer after sending   POST /2/tweets: OutcomeUnknownError; else RetryableError
    201, unreadable body      OutcomeUnknownError
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient, HttpResponse
from herald.platforms._http import cause, header_token
from herald.platforms.base import (
    Capabilities,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishError,
    PublishRequest,
    RejectedError,
    RetryableError,
)
from herald.platforms.x.api import XApi, api_for, api_url, tweet_url
from herald.platforms.x.errors import DUPLICATE_CONTENT, error_for
from herald.platforms.x.lookup import find_tweet
from herald.platforms.x.media import UploadRules, check_media, upload_media
from herald.platforms.x.profile import read_profile
from herald.platforms.x.tweets import tweet_body

# How long a re-send refused as a duplicate waits before the next look: X's timeline catches up
# within seconds.
DUPLICATE_RECHECK_S = 10.0


class XConnector:
    platform: Platform = Platform.TWITTER
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=None, supports_lookup=True, threads=True
    )

    def __init__(self, upload: UploadRules | None = None) -> None:
        self.upload = upload or UploadRules()

    async def verify(
        self,
        client: HttpClient,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> Profile:
        token = header_token(credentials)
        if token is None:
            raise RejectedError("An X connection needs an accessToken credential")
        return await read_profile(XApi(client, api_url(options), token))

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        api = api_for(client, request.credentials, request.options)
        check_media(request.media)
        media_ids = [await upload_media(api, item, self.upload) for item in request.media]
        body = tweet_body(request, media_ids)
        response = await api.send("POST", "/2/tweets", may_exist=True, json=body)
        if response.status_code not in (200, 201):
            error = error_for(response, api.token, "the tweet", may_exist=True)
            if isinstance(error, RejectedError) and error.code == DUPLICATE_CONTENT:
                return await self._settle_duplicate(api, request, error)
            raise error
        return _published(response, request)

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        try:
            return await find_tweet(api_for(client, request.credentials, request.options), request)
        except RetryableError:
            raise
        except PublishError as error:  # every lookup failure is temporary to the reconciler
            raise RetryableError(error.message, http_status=error.http_status) from None
        except (ValueError, LookupError, TypeError) as exc:
            message = f"X lookup got an answer it could not read ({cause(exc)})"
            raise RetryableError(message) from None

    async def _settle_duplicate(
        self, api: XApi, request: PublishRequest, refusal: RejectedError
    ) -> Published:
        """X refused the tweet as a duplicate: if it is this part, sent by an earlier attempt
        whose answer was lost, that is success; otherwise wait for the timeline to show it."""
        try:
            found = await find_tweet(api, request)
        except (PublishError, ValueError, LookupError, TypeError):
            found = None
        if found is not None:
            return found
        raise RetryableError(
            f"{refusal.message}; Herald could not find that tweet yet and will look again",
            retry_after=DUPLICATE_RECHECK_S,
            http_status=refusal.http_status,
        )


def _published(response: HttpResponse, request: PublishRequest) -> Published:
    try:
        tweet_id = response.json()["data"]["id"]
    except (ValueError, LookupError, TypeError):
        tweet_id = None
    if not isinstance(tweet_id, str) or not tweet_id:
        # A success status with a body we cannot read: the tweet most likely exists.
        message = "X answered success with an unreadable body; the tweet may exist"
        raise OutcomeUnknownError(message, http_status=response.status_code)
    username = request.options.get("username")
    return Published(tweet_id, tweet_url(tweet_id, username if isinstance(username, str) else None))
