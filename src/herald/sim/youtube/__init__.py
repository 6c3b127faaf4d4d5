"""The YouTube simulator: Google's OAuth 2.0 endpoints and the part of the YouTube Data API v3
Herald uses, in memory, on one port, with Google's answers, quota and faults.

`B` is the base URL; Google splits these paths over accounts.google.com, oauth2.googleapis.com
and www.googleapis.com (or youtube.googleapis.com, the discovery document's rootUrl); the
simulator serves them all. Sources: [docs] Google's documentation, [verified] checked with
google-api-python-client and google-auth against this simulator (tests/sim), [chosen] where the
docs are silent.

OAuth 2.0 for web server apps [docs]:

    GET  B/o/oauth2/v2/auth  client_id, redirect_uri (registered exactly, else an HTML error
         page and no redirect), response_type=code, scope, state, access_type=offline (a
         refresh token), prompt, code_challenge(+_method). Allow redirects with code, state
         and scope; Cancel with error=access_denied.
    POST B/token (and B/oauth2/v4/token, its older address) form; client_id/client_secret
         in the body or HTTP Basic (401 invalid_client).
         authorization_code: code (single use, ten minutes), redirect_uri, code_verifier when
         a challenge was sent -> {"access_token", "expires_in": 3599, "scope", "token_type":
         "Bearer", "refresh_token" (offline only)}. refresh_token: a new access token and no
         new refresh token (Google's do not rotate); a revoked one is 400 invalid_grant "Token
         has been expired or revoked."
    POST B/revoke  token=…; ends the grant (access and refresh tokens).

Data API (`Authorization: Bearer`; 401 authError; 403 insufficientPermissions; errors as
{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}):

    GET  B/youtube/v3/channels?part=snippet&mine=true  the caller's channel
    GET  B/youtube/v3/videos?part=snippet,status,processingDetails&id=…  status.uploadStatus
         "uploaded" then "processed", processingDetails.processingStatus "processing" then
         "succeeded", `processing_s` after the last byte
    POST B/youtube/v3/playlistItems?part=snippet  404 playlistNotFound / videoNotFound
    POST B/upload/youtube/v3/thumbnails/set?videoId=…  the image as the body (JPEG or PNG,
         2 MB); 404 videoNotFound

videos.insert, the resumable upload protocol [docs: using_resumable_upload_protocol]:

    POST B/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status (also under
         B/resumable/upload/…) with X-Upload-Content-Length and X-Upload-Content-Type and the
         metadata as JSON: title required (1-100 characters, no < or >: 400 invalidTitle),
         description 5,000 bytes, tags 500 characters, categoryId a known category (400
         invalidCategoryId), privacyStatus -> 200 with `Location: <session URI>` (the same path
         with &upload_id=…). Metadata is checked here, before any byte [chosen]. Other
         uploadTypes are refused [chosen: Herald uses resumable only].
    PUT  <session URI> (no token: the URI is the credential [docs]) with
         `Content-Range: bytes a-b/N`: a chunk starting at the confirmed offset, a multiple of
         256 KiB unless it is the last -> 308 with `Range: bytes=0-x` (no Range before the
         first byte), or 200 with the video resource after the last byte. A chunk that does
         not start at the confirmed offset stores nothing and answers the progress [chosen].
         `Content-Range: bytes */N` with no body: the status query, same answers. A finished
         session answers its video again: never a second one. Unknown session: 404.

Quota [docs]: the day resets at midnight Pacific. videos.insert counts in its own bucket
(`daily_uploads`, 100), everything else in units (`daily_units`, 10,000: videos.list and
channels.list 1, playlistItems.insert and thumbnails.set 50). Spent: 403 reason
quotaExceeded, domain youtube.quota.

Faults, scripted per chunk PUT with {"upload": [...]}: `lost_response` stores the chunk (and
may finish the video), then holds the answer `hang_s` or until the client hangs up;
`unavailable` (503 backendError) and `timeout` (held, then 503) store nothing.

Control API: /_sim/config, /_sim/script, /_sim/stats, /_sim/reset (herald.sim.control),
POST /_sim/tokens {"scope"?, "offline"?} (a token answer without the consent page),
POST /_sim/expire-tokens, GET /_sim/videos, GET /_sim/sessions, GET /_sim/extras (playlist
items and thumbnails). The simulator keeps each upload's size and SHA-256, not its bytes; a
chunk cut off mid-body joins nothing, but stats count its bytes in `bytes_arrived` (every
byte that reached the simulator) beside `bytes_received` (bytes of whole chunks). Every
call, chunk PUTs included, waits `latency_ms` first.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from herald.sim.control import serve
from herald.sim.youtube.config import YouTubeConfig
from herald.sim.youtube.control import CONTROL_ROUTES
from herald.sim.youtube.http import ApiError, api_error
from herald.sim.youtube.oauth import consent_decision, consent_page, revoke, token
from herald.sim.youtube.resources import channels, insert_playlist_item, videos
from herald.sim.youtube.state import YouTubeSim
from herald.sim.youtube.uploads import put_bytes, set_thumbnail, start_session

__all__ = ["YouTubeConfig", "YouTubeSim", "create_youtube_app", "serve_youtube"]


def create_youtube_app(config: YouTubeConfig | None = None) -> Starlette:
    """A fresh simulator; its state is `app.state.youtube` (a YouTubeSim)."""
    upload_paths = ("/upload/youtube/v3/videos", "/resumable/upload/youtube/v3/videos")
    app = Starlette(
        routes=[
            Route("/o/oauth2/v2/auth", consent_page, methods=["GET"]),
            Route("/o/oauth2/v2/auth", consent_decision, methods=["POST"]),
            Route("/token", token, methods=["POST"]),
            Route("/oauth2/v4/token", token, methods=["POST"]),
            Route("/revoke", revoke, methods=["POST"]),
            Route("/youtube/v3/channels", channels, methods=["GET"]),
            Route("/youtube/v3/videos", videos, methods=["GET"]),
            Route("/youtube/v3/playlistItems", insert_playlist_item, methods=["POST"]),
            Route("/upload/youtube/v3/thumbnails/set", set_thumbnail, methods=["POST"]),
            *(Route(path, start_session, methods=["POST"]) for path in upload_paths),
            *(Route(path, put_bytes, methods=["PUT"]) for path in upload_paths),
            *CONTROL_ROUTES,
        ],
        exception_handlers={ApiError: api_error},
    )
    app.state.youtube = YouTubeSim(config or YouTubeConfig())
    return app


def serve_youtube(host: str, port: int, config: YouTubeConfig | None = None) -> None:
    """Run the simulator until interrupted (`herald sim youtube`)."""
    serve(create_youtube_app(config), host, port)
