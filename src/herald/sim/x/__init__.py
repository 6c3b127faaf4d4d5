"""The X simulator: X's OAuth 2.0 consent and token endpoints and the part of its API v2
Herald uses, in memory, on one port, with X's answers, rate limits and faults.

`B` is the base URL (`http://127.0.0.1:PORT`); X splits these paths over x.com and api.x.com,
the simulator serves them all. Apps and users come from the config (`XConfig.apps`,
`XConfig.users`; by default the confidential app "herald-sim-client" with secret
"herald-sim-secret" and redirect URIs http://127.0.0.1:8080/connect/twitter/callback and
http://localhost:8080/connect/twitter/callback, and the user @herald_sim) or from the control
API. Sources: [docs] X's documentation (docs.x.com, its docs repository and OpenAPI
description), [issues] answers quoted in client projects' issue threads, [chosen] where both
are silent and this simulator decides.

OAuth 2.0 (authorization code with PKCE, refresh token) [docs]:

    GET  B/i/oauth2/authorize  response_type=code, client_id, redirect_uri, scope, state,
         code_challenge, code_challenge_method (S256 | plain, default plain). An HTML consent
         page naming the app and the scopes, a "Signed in as" user select and two buttons,
         Approve and Deny. An unknown client_id, a redirect_uri not registered exactly, or a
         missing or wrong parameter gives an HTML error page (400) and no redirect [chosen:
         X's own page is an error screen too].
    POST B/i/oauth2/authorize  the form: Approve redirects (302) to
         redirect_uri?state=..&code=..; Deny to redirect_uri?error=access_denied&state=..
    POST B/2/oauth2/token  application/x-www-form-urlencoded. A confidential app (one with a
         secret) must send `Authorization: Basic base64(client_id:secret)`; a public app sends
         client_id in the body; else 401 {"error": "unauthorized_client", "error_description":
         "Missing valid authorization header"} [issues].
         grant_type=authorization_code: code, redirect_uri, code_verifier. The code works once,
         within `code_ttl_s` (30 s [docs]), for its app and redirect URI, else 400
         {"error": "invalid_request", "error_description": "Value passed for the
         authorization code was invalid."} [issues]; a verifier that does not match the
         challenge: "... the code verifier was invalid." [chosen].
         grant_type=refresh_token: refresh_token. Refresh tokens rotate: the one presented is
         spent, and a spent, revoked or unknown one is 400 {"error": "invalid_request",
         "error_description": "Value passed for the token was invalid."} [issues]. Access
         tokens issued before a refresh keep working until they expire [chosen].
         A missing parameter: 400 invalid_request "Missing required parameter [name]."; another
         grant_type: 400 unsupported_grant_type [chosen].
         200 {"token_type": "bearer", "expires_in": 7200, "access_token", "scope": "a b c",
         "refresh_token" (only with offline.access [docs])}; `access_token_ttl_s` sets the
         lifetime.
    POST B/2/oauth2/revoke  token (+ client auth as above); 200 {"revoked": true}, also for an
         unknown token (RFC 7009). Revoking a refresh token ends its grant's access tokens.

API v2 (`Authorization: Bearer <access token>`). Every call waits the configured latency,
then checks the token (401), its scopes as X's OpenAPI `security` lists them (403), then the
caller's 15-minute window for the endpoint (429), and answers with x-rate-limit-limit,
x-rate-limit-remaining and x-rate-limit-reset (epoch seconds) [docs]. Errors are X's problems
as application/json [issues]: {"title", "detail", "type": "about:blank", "status"} for 401
"Unauthorized", 403 "Forbidden", 429 "Too Many Requests", 500 and 503; 400 {"errors":
[{"parameters": {name: [value]}, "message"}], "title": "Invalid Request", "detail": "One or
more parameters to your request was invalid.", "type":
"https://api.x.com/2/problems/invalid-request"}.

    GET    B/2/users/me  (tweet.read users.read) {"data": {"id", "name", "username",
           + user.fields asked for: profile_image_url, verified, protected}}
    POST   B/2/tweets  (tweet.read tweet.write users.read) JSON {"text", "media":
           {"media_ids"}, "reply": {"in_reply_to_tweet_id"}, "quote_tweet_id",
           "reply_settings", ...}; 201 {"data": {"id", "text", "edit_history_tweet_ids"}} with
           URLs in `text` shown as t.co links [docs]. Checks, in order: the 24-hour caps per
           app (`app_tweets_per_day`, x-app-limit-24hour-* headers) and per user
           (`user_tweets_per_day`, x-user-limit-24hour-*) (429); the body (400 for an unknown
           field, a wrong type, empty text without media, quote or poll, text over
           `max_weighted_length` (280) weighted as X counts [chosen shape]); media ids (400
           "Your media IDs are invalid." unless each is the caller's, finalized and processed,
           up to 4 photos or 1 GIF or 1 video); the reply parent and quoted tweet (403 "You
           attempted to reply to a Tweet that is deleted or not visible to you." [issues]);
           duplicate text of the same user within `duplicate_window_s` (403 "You are not
           allowed to create a Tweet with duplicate content." [issues]); then the fault.
    DELETE B/2/tweets/{id}  (same scopes) 200 {"data": {"deleted": true}}; 404
           resource-not-found for an unknown or deleted tweet, 403 for another user's [chosen]
    GET    B/2/users/{id}/tweets  (tweet.read users.read) newest first: max_results (5-100,
           default 10), pagination_token, since_id, until_id, start_time, end_time, exclude,
           tweet.fields (author_id, created_at, conversation_id, in_reply_to_user_id,
           referenced_tweets, attachments, entities with each URL's expanded_url,
           reply_settings); {"data": [...], "meta": {"result_count", "newest_id",
           "oldest_id", "next_token"?}}, {"meta": {"result_count": 0}} when empty, and a 200
           with `errors` (resource-not-found) for an unknown user. A new tweet shows up here
           `timeline_delay_s` after its creation (default 0).

Media upload (media.write) [docs: x-api/media/quickstart/media-upload-chunked, OpenAPI]; bodies
are JSON with the media base64-encoded, or multipart/form-data with it as raw bytes:

    POST B/2/media/upload  {"media", "media_category": tweet_image | tweet_gif} at once (up to
         5 MB / 15 MB) -> {"data": {"id", "media_key", "size", "expires_after_secs"}}; or one
         chunked step with `command` INIT | APPEND | FINALIZE (+ media_id, segment_index)
    POST B/2/media/upload/initialize  {"media_type", "total_bytes", "media_category"?
         (tweet_image | tweet_gif | tweet_video | amplify_video, else from media_type)} ->
         {"data": {"id", "media_key" (3_ photo, 16_ GIF, 7_ video), "expires_after_secs"}};
         total_bytes up to 5 MB (photo), 15 MB (GIF), 512 MB (video)
    POST B/2/media/upload/{id}/append  segment_index (0-999), media (at most 5 MB) ->
         {"data": {"expires_at"}}; the same index again replaces the segment; more bytes than
         total_bytes: 400 "Segments do not add up to provided total file size."
    POST B/2/media/upload/{id}/finalize  the segments must be 0..n-1 and add up to total_bytes
         (400 as above) -> {"data": {"id", "media_key", "size", "expires_after_secs",
         "processing_info"?}}; photos need no processing; videos and GIFs are "pending", then
         "in_progress", for `processing_s`, then "succeeded" or, when scripted, "failed" (with
         "error"); "check_after_secs": 1 while processing. Finalizing again answers the state.
    GET  B/2/media/upload?command=STATUS&media_id=..  {"data": {..., "processing_info":
         {"state", "check_after_secs"?, "progress_percent"}}}
    POST B/2/media/metadata  {"id", "metadata": {"alt_text": {"text" (up to 1,000
         characters)}}} -> {"data": {"id", "associated_metadata": {"alt_text": {"text"}}}}

A media id is the uploader's only; a tweet may attach it once it is finalized and processed,
within a day of its upload. Unknown or another user's media id: 400 "The media_id is invalid."
[chosen]. The simulator keeps the bytes (in memory) so tests can check them.

Rate windows (per user, `rate_window_s` = 900 s): `tweets_per_window` 100 (POST /2/tweets),
`deletes_per_window` 50, `reads_per_window` 900 (each GET), `media_per_window` 1875; null
turns one off. `app_tweets_per_day` 10000, `user_tweets_per_day` null.

Faults apply to tweet creation, after validation, drawn as in the sandbox (script first, "ok"
meaning none, else one draw over `faults`; see herald.sim.faults):

    rate_limit          429, the caller's window for POST /2/tweets full until
                        `retry_after_s` from now (x-rate-limit-remaining 0, the reset then);
                        nothing created
    unavailable         503; nothing created
    error_after_create  the tweet is created, then 500
    lost_response       the tweet is created (in timelines at once), the answer held `hang_s`
                        (less if the client hangs up), then 201
    timeout             held `hang_s` (less if the client hangs up), then 503; nothing created
    rejected            400 invalid-request; nothing created

Token-endpoint faults are scripted apart, {"token": [name | "ok", ...]}, and the token endpoint
takes the configured latency too:

    unavailable     503 at once; nothing granted
    timeout         held `hang_s` (less if the client hangs up), then 503; nothing granted
    rate_limit      429 "Too Many Requests"; nothing granted
    lost_response   the grant happens (a code is used, a refresh token rotated and spent), the
                    answer held `hang_s`: the client never learns the new refresh token

None of the refusals is a revocation: a client must not take them for one.

Media upload faults are scripted apart too, one entry per upload call (STATUS polls included),
{"upload": [name | "ok", ...]}: unavailable (503), timeout (held, then 503) and rate_limit
(429, the window full until `retry_after_s`) do nothing; error_after_create (500) and
lost_response (held answer) do the call's work first (a segment stored, an upload finalized).

Timeline faults are scripted apart as well, one entry per GET /2/users/:id/tweets,
{"timeline": ["ok" | "unavailable" | "rate_limit", ...]}: 503, or 429 with the caller's
timeline window full until `retry_after_s` from now (x-rate-limit-reset then); nothing read.

Control API (no latency, no token; errors `{"error": code, "message": text}`):

    GET|POST B/_sim/config   read | merge {"latency_ms", "latency_jitter_ms", "retry_after_s",
                             "hang_s", "seed", "faults": {name: p}, "access_token_ttl_s",
                             "code_ttl_s", "max_weighted_length", "max_media_per_tweet",
                             "duplicate_window_s", "timeline_delay_s", "processing_s",
                             "rate_window_s", "tweets_per_window", "deletes_per_window",
                             "reads_per_window", "media_per_window", "app_tweets_per_day",
                             "user_tweets_per_day"}
    POST B/_sim/script       {"faults"?: [...], "token"?: [...], "upload"?: [...],
                             "timeline"?: [...], "media"?: ["ok" | "fail"]}
                             ("media" decides how the next finalized videos and GIFs end)
    GET  B/_sim/stats        {"creates", "tweets", "duplicates", "deletes", "timelines", "me",
                             "uploads", "status_polls", "rate_limited", "consents",
                             "denials", "codes_issued", "codes_exchanged", "refreshes",
                             "refreshes_by_user": {user id: n}, "token_refusals",
                             "token_faults", "upload_faults", "faults": {name: n}}
    GET|POST B/_sim/apps     list | register {"client_id", "redirect_uris": [...],
                             "client_secret"?, "name"?}; secrets are never shown
    GET|POST B/_sim/users    list | add {"username", "id"?, "name"?, "profile_image_url"?,
                             "verified"?}
    POST B/_sim/tokens       {"user_id", "client_id"?, "scope"?, "expires_in"?}: the token
                             endpoint's answer (plus "user_id") without the consent page
    POST B/_sim/expire-tokens {"user_id"?}: live access tokens expire now ({"expired": n})
    POST B/_sim/revoke       {"user_id", "client_id"?}: the user removed the app
    GET  B/_sim/tweets[?user=ID]  {"tweets": [{id, author_id, username, client_id, text (as
                             sent), in_reply_to_tweet_id, quote_tweet_id, media_ids,
                             reply_settings, created_at, deleted, url}]}, oldest first
    GET  B/_sim/media        {"media": [{id, media_key, owner_id, media_category, media_type,
                             total_bytes, size, segments, sha256, finalized, alt_text,
                             state}]}
    GET  B/_sim/requests     {"requests": [{"endpoint", "body"}]}: the JSON bodies of
                             POST /2/tweets, upload initializes (INIT) and
                             POST /2/media/metadata, last 1,000
    POST B/_sim/reset        clears tweets, media, tokens, windows, scripts, stats, requests
                             and added apps and users, and restores the initial config; ids
                             keep growing
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from herald.sim.control import serve
from herald.sim.x.config import DEFAULT_APP, DEFAULT_USER, XApp, XConfig, XUser
from herald.sim.x.control import CONTROL_ROUTES
from herald.sim.x.http import ApiError, api_error
from herald.sim.x.media import append, finalize, initialize, metadata, status, upload
from herald.sim.x.oauth import authorize_decision, authorize_page, revoke, token
from herald.sim.x.state import XSim
from herald.sim.x.tweets import create_tweet, delete_tweet
from herald.sim.x.users import me, user_tweets

__all__ = [
    "DEFAULT_APP",
    "DEFAULT_USER",
    "XApp",
    "XConfig",
    "XSim",
    "XUser",
    "create_x_app",
    "serve_x",
]


def create_x_app(config: XConfig | None = None) -> Starlette:
    """A fresh simulator; its state is `app.state.x` (an XSim)."""
    app = Starlette(
        routes=[
            Route("/i/oauth2/authorize", authorize_page, methods=["GET"]),
            Route("/i/oauth2/authorize", authorize_decision, methods=["POST"]),
            Route("/2/oauth2/token", token, methods=["POST"]),
            Route("/2/oauth2/revoke", revoke, methods=["POST"]),
            Route("/2/users/me", me, methods=["GET"]),
            Route("/2/users/{id}/tweets", user_tweets, methods=["GET"]),
            Route("/2/tweets", create_tweet, methods=["POST"]),
            Route("/2/tweets/{id}", delete_tweet, methods=["DELETE"]),
            Route("/2/media/upload", upload, methods=["POST"]),
            Route("/2/media/upload", status, methods=["GET"]),
            Route("/2/media/upload/initialize", initialize, methods=["POST"]),
            Route("/2/media/upload/{id}/append", append, methods=["POST"]),
            Route("/2/media/upload/{id}/finalize", finalize, methods=["POST"]),
            Route("/2/media/metadata", metadata, methods=["POST"]),
            *CONTROL_ROUTES,
        ],
        exception_handlers={ApiError: api_error},
    )
    app.state.x = XSim(config or XConfig())
    return app


def serve_x(host: str, port: int, config: XConfig | None = None) -> None:
    """Run the simulator until interrupted (`herald sim x`)."""
    serve(create_x_app(config), host, port)
