"""The LinkedIn simulator: LinkedIn's OAuth 2.0 pages and token endpoint, OpenID userinfo, and
the versioned REST APIs Herald publishes with (Posts, Images, Videos, Documents, social
actions), in memory, on one port, with LinkedIn's answers, quotas and faults.

`B` is the base URL; LinkedIn splits these paths over www.linkedin.com and api.linkedin.com,
the simulator serves them all. Sources: [docs] learn.microsoft.com/linkedin (Posts, Images,
Videos, Documents APIs, versioning, authorization code flow), [issues] answers quoted in client
projects' issue threads, [recall] remembered behaviour, [chosen] where all are silent.

OAuth (no PKCE; client id and secret in the form) [docs]:

    GET  B/oauth/v2/authorization  response_type=code, client_id, redirect_uri (exact), scope
         (space- or comma-separated), state: consent page with a member select and one
         ticked checkbox per scope (unticking declines it); Allow / Cancel.
         Wrong client or redirect URI: HTML error page, no redirect.
    POST B/oauth/v2/authorization  Allow -> redirect_uri?code=..&state=..; Cancel ->
         ?error=user_cancelled_authorize&error_description=..&state=..
    POST B/oauth/v2/accessToken  grant_type=authorization_code, code (once, 30 min),
         redirect_uri, client_id, client_secret -> {"access_token", "expires_in" (60 days),
         "scope" (comma-separated), "token_type"}; no refresh_token [docs]. A bad code:
         400 invalid_request; bad client: 401 invalid_client.
    GET  B/v2/userinfo  (openid profile) {"sub", "name", "given_name", "family_name",
         "picture", "locale"}; unversioned.

Versioned REST (`/rest/...`): every call needs the bearer token (401 INVALID_ACCESS_TOKEN),
`LinkedIn-Version: YYYYMM` (missing: 400 VERSION_MISSING; outside `oldest_version` ..
`newest_version`: 426 NONEXISTENT_VERSION "Requested version 20250401 is not active"
[issues]) and, on writes, `X-Restli-Protocol-Version: 2.0.0`. Errors are LinkedIn's
{"status", "serviceErrorCode"?, "code"?, "message"} (422s add errorDetailType/errorDetails).

    GET  B/rest/organizationAcls?q=roleAssignee   the member's ADMINISTRATOR pages
    GET  B/rest/organizations/{id}                {"id", "localizedName", "vanityName"}
    POST B/rest/posts  {"author", "commentary", "visibility", "distribution",
         "lifecycleState": "PUBLISHED", "content"? (media {id, altText, title} | multiImage
         {images: 2-20}), "reshareContext"? {parent}, "isReshareDisabledByAuthor"} -> 201,
         empty body, `x-restli-id: urn:li:share:N` (text) or `urn:li:ugcPost:N` (media).
         Checks in order: token, version, body (422), author allowed for the token (403;
         w_member_social for urn:li:person, w_organization_social and an ADMINISTRATOR role
         for urn:li:organization), media AVAILABLE and the author's (422), the member's daily
         quota `daily_posts_per_member` (429 TOO_MANY_REQUESTS "Resource level throttle 1 DAY
         limit ...", resets at midnight UTC, no header), duplicate of the same author's
         commentary and content within `duplicate_window_s` (422 "Content is a duplicate of
         urn:li:share:N", inputErrors code DUPLICATE_POST [issues]), then the fault.
    GET|DELETE B/rest/posts/{urn}
    POST B/rest/{images|documents}?action=initializeUpload {"initializeUploadRequest":
         {"owner"}} -> {"value": {"uploadUrl", "uploadUrlExpiresAt", "image"|"document"}};
         PUT the bytes to uploadUrl with the bearer token -> 201; then AVAILABLE.
    POST B/rest/videos?action=initializeUpload {"initializeUploadRequest": {"owner",
         "fileSizeBytes", ...}} -> {"value": {"video", "uploadToken", "uploadInstructions":
         [{"uploadUrl", "firstByte", "lastByte"}] (`video_part_bytes` parts)}}; PUT each part
         (pre-signed, no token) -> 201 with an ETag; POST ?action=finalizeUpload
         {"finalizeUploadRequest": {"video", "uploadToken", "uploadedPartIds": [ETags in
         order]}} -> 200; PROCESSING for `processing_s`, then AVAILABLE.
    GET  B/rest/{images|videos|documents}/{urn}   {"id", "owner", "status"}
    POST B/rest/socialActions/{urn}/comments  {"actor", "object", "message": {"text"}} -> 201
         with the comment and x-restli-id urn:li:comment:(urn,id); DELETE .../comments/{id}
    POST B/rest/reactions?actor={urn}  {"root", "reactionType"} -> 201; 409 when present
    DELETE B/rest/reactions/(actor:{urn},entity:{urn})  -> 200 with the removed reaction
    GET  B/rest/socialMetadata/{urn}   reaction and comment counts
    GET  B/rest/memberCreatorPostAnalytics?q=entity&entity=(share:{urn})&queryType=
         IMPRESSION|MEMBERS_REACHED|RESHARE|REACTION|COMMENT&aggregation=TOTAL
         -> {"elements": [{"count", "metricType", "targetEntity"}]}; reactions, comments and
         reshares as stored, impressions and reach a steady figure per post [chosen];
         q=me: the metric summed over the caller's posts
    GET  B/rest/memberFollowersCount?q=me -> {"elements": [{"memberFollowersCount"}]};
         q=dateRange&dateRange=(start:(year:Y,month:M,day:D),end:(...)) -> one element per day
         with that day's gain (a steady 0-6 per member and day [chosen])
    GET  B/rest/networkSizes/{urn:li:organization:N}?edgeType=COMPANY_FOLLOWED_BY_MEMBER
         -> {"firstDegreeSize"}: the page's followers

Faults (post creation only, after the checks; see herald.sim.faults): rate_limit (429, not a
daily limit, with Retry-After `retry_after_s` [chosen]), unavailable (503), rejected (422),
timeout (held, 504), error_after_create (the post stored, 500), lost_response (stored, the 201
held `hang_s`).

Control (no token): the shared /_sim/config|script|stats|reset, and POST /_sim/tokens
{"sub"?, "client_id"?, "scope"?, "expires_in"?} (a token without the consent page),
POST /_sim/members {"sub", "given_name"?, "family_name"?} (a member who can sign in),
GET /_sim/posts, /_sim/assets, /_sim/requests (JSON bodies received, last 1,000).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from herald.sim.control import serve
from herald.sim.linkedin.assets import asset_status, assets_action, upload
from herald.sim.linkedin.audience import member_followers, network_size
from herald.sim.linkedin.config import (
    DEFAULT_APP,
    DEFAULT_MEMBER,
    DEFAULT_ORGANIZATION,
    LinkedInApp,
    LinkedInConfig,
    Member,
    Organization,
)
from herald.sim.linkedin.control import CONTROL_ROUTES
from herald.sim.linkedin.engagement import list_comments, list_reactions, person, posts_by_author
from herald.sim.linkedin.http import LinkedInError, linkedin_error
from herald.sim.linkedin.oauth import (
    access_token,
    authorize_decision,
    authorize_page,
    organization,
    organization_acls,
    userinfo,
)
from herald.sim.linkedin.posts import create_post, delete_post, get_post
from herald.sim.linkedin.social import (
    create_comment,
    create_reaction,
    delete_comment,
    delete_reaction,
    post_analytics,
    social_metadata,
)
from herald.sim.linkedin.state import LinkedInSim

__all__ = [
    "DEFAULT_APP",
    "DEFAULT_MEMBER",
    "DEFAULT_ORGANIZATION",
    "LinkedInApp",
    "LinkedInConfig",
    "LinkedInSim",
    "Member",
    "Organization",
    "create_linkedin_app",
    "serve_linkedin",
]


def create_linkedin_app(config: LinkedInConfig | None = None) -> Starlette:
    """A fresh simulator; its state is `app.state.linkedin` (a LinkedInSim)."""
    app = Starlette(
        routes=[
            Route("/oauth/v2/authorization", authorize_page, methods=["GET"]),
            Route("/oauth/v2/authorization", authorize_decision, methods=["POST"]),
            Route("/oauth/v2/accessToken", access_token, methods=["POST"]),
            Route("/v2/userinfo", userinfo, methods=["GET"]),
            Route("/rest/organizationAcls", organization_acls, methods=["GET"]),
            Route("/rest/organizations/{id}", organization, methods=["GET"]),
            Route("/rest/posts", create_post, methods=["POST"]),
            Route("/rest/posts", posts_by_author, methods=["GET"]),
            Route("/rest/posts/{urn}", get_post, methods=["GET"]),
            Route("/rest/posts/{urn}", delete_post, methods=["DELETE"]),
            *(
                Route(f"/rest/{kind}", assets_action, methods=["POST"])
                for kind in ("images", "videos", "documents")
            ),
            Route("/rest/socialActions/{urn}/comments", create_comment, methods=["POST"]),
            Route("/rest/socialActions/{urn}/comments", list_comments, methods=["GET"]),
            Route(
                "/rest/socialActions/{urn}/comments/{comment}", delete_comment, methods=["DELETE"]
            ),
            Route("/rest/reactions", create_reaction, methods=["POST"]),
            Route("/rest/reactions/{key}", delete_reaction, methods=["DELETE"]),
            Route("/rest/reactions/{key}", list_reactions, methods=["GET"]),
            Route("/rest/people/{key}", person, methods=["GET"]),
            Route("/rest/memberCreatorPostAnalytics", post_analytics, methods=["GET"]),
            Route("/rest/memberFollowersCount", member_followers, methods=["GET"]),
            Route("/rest/networkSizes/{urn}", network_size, methods=["GET"]),
            Route("/rest/socialMetadata/{urn}", social_metadata, methods=["GET"]),
            *(
                Route(f"/rest/{kind}/{{urn}}", asset_status, methods=["GET"])
                for kind in ("images", "videos", "documents")
            ),
            Route("/dms-uploads/{urn}/{first:int}", upload, methods=["PUT"]),
            *CONTROL_ROUTES,
        ],
        exception_handlers={LinkedInError: linkedin_error},
    )
    app.state.linkedin = LinkedInSim(config or LinkedInConfig())
    return app


def serve_linkedin(host: str, port: int, config: LinkedInConfig | None = None) -> None:
    """Run the simulator until interrupted (`herald sim linkedin`)."""
    serve(create_linkedin_app(config), host, port)
