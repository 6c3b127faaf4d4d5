"""The TikTok simulator: Login Kit OAuth and the Content Posting API (Direct Post), in memory,
with TikTok's envelope and checks. Sources: [docs] developers.tiktok.com (reference/platforms.md
§5), [chosen] where they are silent. There is no official Python client: facts tests only.

`B` is the base URL (TikTok splits these over www.tiktok.com and open.tiktokapis.com):

    GET|POST B/v2/auth/authorize/  client_key, redirect_uri (registered exactly), scope
         (comma-separated), response_type=code, state, code_challenge: consent page; Authorize
         redirects with code, scopes and state; Cancel with error=access_denied.
    POST B/v2/oauth/token/  form client_key, client_secret, grant_type authorization_code
         (code single use) or refresh_token (rotated [chosen]) -> {"access_token", "expires_in":
         86400, "open_id", "refresh_expires_in": 31536000, "refresh_token", "scope",
         "token_type": "Bearer"}; errors 400 {"error", "error_description", "log_id"}.
    GET  B/v2/user/info/?fields=…  (user.info.basic) {"data": {"user": {…}}, "error"}.
    POST B/v2/post/publish/creator_info/query/  (video.publish) privacy_level_options,
         comment/duet/stitch_disabled, max_video_post_duration_sec, creator_username.
    POST B/v2/post/publish/video/init/  post_info (privacy_level one of the creator's options,
         else 400 privacy_level_option_mismatch; disable_* must be true where the creator
         disabled it; title ≤ 2,200 UTF-16 units) and source_info FILE_UPLOAD (video_size,
         chunk_size, total_chunk_count: one chunk under 5 MB, else 5-64 MB chunks, count =
         floor(size / chunk), last ≤ 128 MB) -> {publish_id, upload_url}; or PULL_FROM_URL
         (video_url; not fetched [chosen]) -> {publish_id}.
    PUT  upload_url  chunks in order with Content-Range bytes a-b/N: 206, then 201.
    POST B/v2/post/publish/content/init/  media_type PHOTO, post_mode DIRECT_POST, post_info
         (title ≤ 90, description), source_info PULL_FROM_URL photo_images (1-35).
    POST B/v2/post/publish/status/fetch/  {publish_id} -> status PROCESSING_UPLOAD |
         PROCESSING_DOWNLOAD | PUBLISH_COMPLETE (+ publicaly_available_post_id [sic]).

Every API answer is {"data", "error": {"code" ("ok"), "message", "log_id"}}; 401
access_token_invalid, scope_not_authorized; 400 invalid_params. Control: /_sim/config,
/_sim/stats, /_sim/reset, POST /_sim/tokens, POST /_sim/expire-tokens, GET /_sim/posts.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.sim.control import control_routes, serve
from herald.sim.tiktok.api import (
    ApiError,
    api_error,
    creator_info,
    init_content,
    init_video,
    post_wire,
    sim_of,
    status_fetch,
    upload,
    user_info,
)
from herald.sim.tiktok.oauth import consent_decision, consent_page, token
from herald.sim.tiktok.state import TikTokConfig, TikTokSim, config_wire

__all__ = ["TikTokConfig", "TikTokSim", "create_tiktok_app", "serve_tiktok"]
DEFAULT_SCOPE = "user.info.basic,video.publish,video.upload"


async def _tokens(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        body = {}
    scope = body.get("scope", DEFAULT_SCOPE) if isinstance(body, dict) else DEFAULT_SCOPE
    return JSONResponse(sim_of(request).issue(str(scope)))


async def _expire(request: Request) -> Response:
    return JSONResponse({"expired": sim_of(request).expire_tokens()})


async def _posts(request: Request) -> Response:
    return JSONResponse({"posts": [post_wire(p) for p in sim_of(request).posts.values()]})


def create_tiktok_app(config: TikTokConfig | None = None) -> Starlette:
    app = Starlette(
        routes=[
            Route("/v2/auth/authorize/", consent_page, methods=["GET"]),
            Route("/v2/auth/authorize/", consent_decision, methods=["POST"]),
            Route("/v2/oauth/token/", token, methods=["POST"]),
            Route("/v2/user/info/", user_info, methods=["GET"]),
            Route("/v2/post/publish/creator_info/query/", creator_info, methods=["POST"]),
            Route("/v2/post/publish/video/init/", init_video, methods=["POST"]),
            Route("/v2/post/publish/content/init/", init_content, methods=["POST"]),
            Route("/v2/post/publish/status/fetch/", status_fetch, methods=["POST"]),
            Route("/upload/", upload, methods=["PUT"]),
            *control_routes(sim_of, config_wire),
            Route("/_sim/tokens", _tokens, methods=["POST"]),
            Route("/_sim/expire-tokens", _expire, methods=["POST"]),
            Route("/_sim/posts", _posts, methods=["GET"]),
        ],
        exception_handlers={ApiError: api_error},
    )
    app.state.tiktok = TikTokSim(config or TikTokConfig())
    return app


def serve_tiktok(host: str, port: int, config: TikTokConfig | None = None) -> None:
    """Run the simulator until interrupted (`herald sim tiktok`)."""
    serve(create_tiktok_app(config), host, port)
