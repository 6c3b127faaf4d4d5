"""The Mastodon simulator: the part of Mastodon's client API Herald uses, in memory, with faults.

`B` is the base URL: `http://127.0.0.1:PORT` standalone, or the mount point when mounted under a
path; returned URLs come from the request's host and root path. Accounts come from the config
(`MastodonConfig.accounts`, by default one: id 109876543210, @herald, token "herald-sim-token")
or from POST B/_sim/accounts. `Authorization: Bearer <token>` picks the account. Errors are
Mastodon's `{"error": text}`; texts are Mastodon 4.x's English ones.

    GET  B/api/v1/accounts/verify_credentials   (token) 200 Account + "source"
    GET  B/api/v2/instance                      200 Instance; configuration.statuses:
         max_characters (500), max_media_attachments (4), characters_reserved_per_url (23);
         configuration.media_attachments: supported_mime_types, description_limit (1500),
         image_size_limit (16 MiB), video_size_limit (99 MiB)
    POST B/api/v2/media  (token) multipart/form-data: `file` (a part with a filename),
         `description`?; 200 MediaAttachment for images (processed at once), 202 with
         "url": null for video, GIF (becomes "gifv") and audio, processed for
         `processing_delay_s`. 422 "Validation failed: File can't be blank" | "... File content
         type is invalid, File is invalid" | "... File file size must be less than 16 MB" |
         "... Description is too long (maximum is 1500 characters)"; 400 on a malformed body;
         500 "Error processing thumbnail for uploaded media" when an image's processing fails
    GET  B/api/v1/media/{id}  (token) the caller's unattached media: 206 while processing, 200
         when done, 422 "Error processing thumbnail for uploaded media" when it failed, else 404
    POST B/api/v1/statuses  (token) JSON or form: status, spoiler_text?, visibility? (public |
         unlisted | private | direct), in_reply_to_id?, media_ids?; header Idempotency-Key?
         200 Status {id, created_at, in_reply_to_id, in_reply_to_account_id, visibility,
         spoiler_text, uri "B/users/<username>/statuses/<id>", url "B/@<username>/<id>",
         content (HTML: escaped, links/hashtags/known mentions linked, <p> per paragraph,
         <br /> per newline), media_attachments (with description), account, ...}
    GET  B/api/v1/statuses/{id}           the Status, or 404 "Record not found"; favourites_count,
                                          reblogs_count and replies_count as set or made, and
                                          quotes_count (Mastodon 4.5+) only once set
    GET  B/api/v1/statuses/{id}/context   {"ancestors": [...], "descendants": [...]}
    GET  B/api/v1/accounts/{id}/statuses  newest first; limit (20, at most 40), max_id,
         since_id, min_id, exclude_replies (self-replies stay), only_media; Link header with
         rel="next" (max_id) and rel="prev" (min_id); 404 "Record not found"

Status creation follows Mastodon's order: token (401 "The access token is invalid"), rate
window (429), parent (404 "The post you are trying to reply to does not appear to exist."),
Idempotency-Key replay (the account's status created with the key within
`idempotency_ttl_s`, default 1 h, comes back as is, 200, nothing created, the body unchecked),
media (422 "Cannot attach more than 4 files" | "Media <ids> not found or already attached to
another post" | "Cannot attach a video to a post that already contains images" | "Cannot
attach files that have not finished processing. Try again in a moment!"), text (422
"Validation failed: Text can't be blank" without media | "Validation failed: Text character
limit of 500 exceeded", counted as Mastodon does: graphemes of spoiler_text + status, a URL
as 23, @user@domain as @user), then the fault, then the status.

Rate limits: every request with a valid token counts against its account's window
(`rate_limit` per `rate_window_s`, default 300 per 5 min, aligned to multiples of the window);
answers carry X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset, which is ISO 8601
with microseconds (2026-11-29T12:05:00.000000Z) as Mastodon sends it, or epoch seconds with
`reset_format: "epoch"` as mastodon-mock sends it. Over the limit: 429 {"error": "Too many
requests"}, no Retry-After (Mastodon sends none).

Faults apply to status creation only, drawn as in the sandbox (script first, "ok" meaning none,
else one draw over `faults`; see herald.sim.faults), after validation, so replays and invalid
requests take none:

    rate_limit          429 "Too many requests", X-RateLimit-Remaining 0 and a reset
                        `retry_after_s` from now; nothing created
    unavailable         503; nothing created
    error_after_create  the status is created, then 500
    lost_response       the status is created (visible at once), the answer held `hang_s` (less
                        if the client hangs up), then 200
    timeout             held `hang_s` (less if the client hangs up), then 503; nothing created
    rejected            422 "Validation failed: rejected by fault injection"

Control API (no latency, no token; errors `{"error": code, "message": text}`):

    GET|POST B/_sim/config    read | merge {"latency_ms", "latency_jitter_ms", "retry_after_s",
                              "hang_s", "idempotency_ttl_s", "seed", "faults": {name: p},
                              "max_characters", "max_media_attachments", "description_limit",
                              "image_size_limit", "video_size_limit", "processing_delay_s",
                              "rate_limit" (null: off), "rate_window_s", "reset_format"}
    POST B/_sim/script        {"faults"?: [name | "ok", ...], "media"?: ["ok" | "fail", ...]};
                              a "fail" makes the next upload's processing fail
    GET  B/_sim/stats         {"creates", "keyed" (with an Idempotency-Key), "replays",
                              "statuses", "uploads", "media", "polls", "still_processing"
                              (206 answers), "timelines", "rate_limited", "idempotency_keys"
                              (the last 1,000 received, oldest first), "status_reads",
                              "account_reads", "faults": {name: n}}
    GET  B/_sim/statuses[?account=ID]  {"statuses": [{id, account_id, url, text, spoiler_text,
                              visibility, in_reply_to_id, media_ids, idempotency_key,
                              created_at}]}, oldest first
    GET  B/_sim/media         {"media": [{id, account_id, type, content_type, size, sha256,
                              description, processing, failed, status_id}]}
    GET|POST B/_sim/accounts  list | add {"username", "token", "id"?, "display_name"?,
                              "avatar"?}; tokens are never shown
    POST B/_sim/engagement    {"statusId", "favourites"?, "reblogs"?, "quotes"?} on a status, or
                              {"accountId", "followers"?, "following"?} on an account
                              (verify_credentials' followers_count and following_count)
    POST B/_sim/reset         clears statuses, media, keys, windows, scripts, stats and added
                              accounts, and restores the initial config; ids keep increasing
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from herald.sim.control import control_routes, serve
from herald.sim.mastodon_config import (
    DEFAULT_ACCOUNT,
    MastodonAccount,
    MastodonConfig,
    mastodon_config_wire,
)
from herald.sim.mastodon_control import (
    sim_accounts,
    sim_engagement,
    sim_media,
    sim_script,
    sim_statuses,
)
from herald.sim.mastodon_http import ApiError, api_error, sim_of
from herald.sim.mastodon_media import show_media, upload_media
from herald.sim.mastodon_state import MastodonSim
from herald.sim.mastodon_statuses import (
    account_statuses,
    create_status,
    get_status,
    instance,
    status_context,
    verify_credentials,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "MastodonAccount",
    "MastodonConfig",
    "MastodonSim",
    "create_mastodon_app",
    "serve_mastodon",
]


def create_mastodon_app(config: MastodonConfig | None = None) -> Starlette:
    """A fresh simulator; its state is `app.state.mastodon` (a MastodonSim)."""
    app = Starlette(
        routes=[
            Route("/api/v1/accounts/verify_credentials", verify_credentials, methods=["GET"]),
            Route("/api/v1/accounts/{id}/statuses", account_statuses, methods=["GET"]),
            Route("/api/v2/instance", instance, methods=["GET"]),
            Route("/api/v2/media", upload_media, methods=["POST"]),
            Route("/api/v1/media/{id}", show_media, methods=["GET"]),
            Route("/api/v1/statuses", create_status, methods=["POST"]),
            Route("/api/v1/statuses/{id}", get_status, methods=["GET"]),
            Route("/api/v1/statuses/{id}/context", status_context, methods=["GET"]),
            *control_routes(sim_of, mastodon_config_wire, script=sim_script),
            Route("/_sim/statuses", sim_statuses, methods=["GET"]),
            Route("/_sim/media", sim_media, methods=["GET"]),
            Route("/_sim/accounts", sim_accounts, methods=["GET", "POST"]),
            Route("/_sim/engagement", sim_engagement, methods=["POST"]),
        ],
        exception_handlers={ApiError: api_error},
    )
    app.state.mastodon = MastodonSim(config or MastodonConfig())
    return app


def serve_mastodon(host: str, port: int, config: MastodonConfig | None = None) -> None:
    """Run the simulator until interrupted (`herald sim`)."""
    serve(create_mastodon_app(config), host, port)
