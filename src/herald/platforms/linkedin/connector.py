"""LinkedInConnector: posts as a member or a company page through LinkedIn's versioned REST API
with a 3-legged OAuth token (herald.sim.linkedin simulates the part used here).

Stored shapes: credentials `{"accessToken", "refreshToken": null, "expiresAt", "scope"}` (sealed;
60-day tokens that Herald cannot renew: the owner reconnects, warned ten days ahead), options
`{"apiUrl": "https://api.linkedin.com", "author": "urn:li:person:<sub>" |
"urn:li:organization:<id>"}`. The external id is the member's OpenID `sub`, or `org-<id>` for a
company page (connected together with its administering member, sharing the member's token).
The engine adds `linkedinVersion` (HERALD_LINKEDIN_VERSION) to the options of every call.

    verify   GET /v2/userinfo -> Profile(sub, name, picture); pages (administered_pages):
             GET /rest/organizationAcls?q=roleAssignee, then GET /rest/organizations/{id}.
    publish  media checked, then uploaded (media.py: Images, Videos with ETag parts and
             finalize, Documents), then POST /rest/posts {author, commentary (little text:
             herald.domain.linkedin_text), visibility, distribution, lifecycleState PUBLISHED,
             content?, reshareContext? (repostParentUrn)} -> 201 with the URN in x-restli-id
             -> Published(urn, https://www.linkedin.com/feed/update/<urn>).
             A request with `reply_to_id` (the first comment) is a comment instead:
             POST /rest/socialActions/{urn}/comments.

Re-sending: LinkedIn takes no idempotency key but refuses a post whose author, commentary and
content repeat a recent one with 422 DUPLICATE_POST "Content is a duplicate of <urn>". The
engine re-sends an in-doubt post within `idempotency_ttl` (one hour; the window LinkedIn keeps
is undocumented and longer as far as anyone has seen), and that refusal is the proof the first
send landed: publish answers Published with the URN LinkedIn names. The same holds for a first
send that repeats a post made outside Herald within LinkedIn's window: it is marked published
with that post's URN (LinkedIn would never show a second one).

Answers, as errors (errors.py):

    401                      AuthExpiredError (reconnect; no refresh for most apps)
    426 NONEXISTENT_VERSION, 400 VERSION_MISSING  RejectedError LINKEDIN_VERSION_UNSUPPORTED,
                             naming HERALD_LINKEDIN_VERSION
    429 "1 DAY limit"        RetryableError(rate_limited) until the next midnight UTC
    429 other                RetryableError(rate_limited), Retry-After or 60 s
    422 DUPLICATE_POST       Published(the named URN); without a URN, RejectedError
    400/403/404/409/410/413/415/422  RejectedError with LinkedIn's message
    3xx                      RejectedError: apiUrl is not where the API answers
    5xx                      POST /rest/posts and comments: OutcomeUnknownError; else
                             RetryableError
    no connection            RetryableError; no answer after sending: as 5xx
    201 without x-restli-id  OutcomeUnknownError
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from herald.domain.platform import Platform
from herald.net.http_client import HttpClient, HttpResponse
from herald.platforms._http import header_token
from herald.platforms.base import (
    Capabilities,
    OutcomeUnknownError,
    Profile,
    Published,
    PublishRequest,
    RejectedError,
)
from herald.platforms.linkedin.api import (
    LinkedInApi,
    api_for,
    api_url,
    post_url,
    version_of,
)
from herald.platforms.linkedin.errors import error_for, read_answer
from herald.platforms.linkedin.media import ProcessingWait, check_media, kind_of, upload
from herald.platforms.linkedin.posts import author_of, comment_body, post_body
from herald.platforms.linkedin.profile import read_member, read_pages


class LinkedInConnector:
    platform: Platform = Platform.LINKEDIN
    capabilities: Capabilities = Capabilities(
        idempotency_ttl=timedelta(hours=1), supports_lookup=False, threads=False
    )

    def __init__(self, wait: ProcessingWait | None = None) -> None:
        self.wait = wait or ProcessingWait()

    async def verify(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Profile:
        return await read_member(self._api(client, credentials, options))

    async def administered_pages(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> list[Profile]:
        return await read_pages(self._api(client, credentials, options))

    async def publish(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published:
        api = api_for(client, request.credentials, request.options)
        author = author_of(request)
        if request.reply_to_id:
            return await _comment(api, author, request.reply_to_id, request.text)
        check_media(request.media)
        media = [
            (item, await upload(api, author, item, self.wait), kind_of(item))
            for item in request.media
        ]
        response = await api.send(
            "POST", "/rest/posts", may_exist=True, json=post_body(request, media)
        )
        return _created(response, api, "the post")

    async def lookup(
        self, client: HttpClient, request: PublishRequest, idempotency_key: str
    ) -> Published | None:
        return None  # a member's posts cannot be listed without r_member_social

    def _api(
        self, client: HttpClient, credentials: Mapping[str, Any], options: Mapping[str, Any]
    ) -> LinkedInApi:
        token = header_token(credentials)
        if token is None:
            raise RejectedError("A LinkedIn connection needs an accessToken credential")
        return LinkedInApi(client, api_url(options), token, version_of(options))


async def _comment(api: LinkedInApi, author: str, post_urn: str, text: str) -> Published:
    path = f"/rest/socialActions/{quote(post_urn, safe='')}/comments"
    response = await api.send(
        "POST", path, may_exist=True, json=comment_body(author, post_urn, text)
    )
    return _created(response, api, "the comment", url=post_url(post_urn))


def _created(
    response: HttpResponse, api: LinkedInApi, subject: str, url: str | None = None
) -> Published:
    if response.status_code == 422:
        earlier = read_answer(response, api.token).duplicate_of
        if earlier is not None:  # an earlier send landed: LinkedIn names its URN
            return Published(earlier, url or post_url(earlier))
    if response.status_code != 201:
        raise error_for(response, api.token, subject, may_exist=True)
    urn = response.headers.get("x-restli-id")
    if not urn or not urn.startswith("urn:li:"):
        message = f"LinkedIn answered 201 for {subject} without its URN; it may exist"
        raise OutcomeUnknownError(message, http_status=201)
    return Published(urn, url or post_url(urn))
