"""The Meta simulator: Facebook Login and the Graph API for Pages and Instagram
(graph.facebook.com), and the Threads login and API (threads.net, graph.threads.net), in
memory, on one port, with Meta's answers, containers, quotas and faults.

`B` is the base URL. Meta serves Graph and Threads on two hosts; the simulator serves both
hosts' paths on one port (every node id it hands out is unique across both, and each token
knows its host), with or without a version prefix (`/v24.0/`, `/v1.0/`). Sources: [docs]
Meta's developer documentation (Graph API, Instagram Platform content publishing, Threads
API), [chosen] where it is silent.

Logins [docs]:

    GET  B/dialog/oauth        Facebook Login: client_id, redirect_uri, state, scope. A page
    GET  B/oauth/authorize     Threads: the same. Both show the app, the scopes, a user select
                               and Continue/Cancel; a wrong client_id or redirect is an error page.
    POST (either path)         Continue redirects to redirect_uri?code=..&state=..; Cancel to
                               ?error=access_denied&error_reason=user_denied&state=..
    GET  B/oauth/access_token  Graph: client_id, client_secret, redirect_uri, code -> a
                               short-lived user token {"access_token", "token_type",
                               "expires_in"}; grant_type=fb_exchange_token + fb_exchange_token
                               -> a long-lived one (60 days)
    POST B/oauth/access_token  Threads: client_id, client_secret, grant_type=authorization_code,
                               redirect_uri, code -> {"access_token", "user_id"} (1 hour)
    GET  B/access_token        grant_type=th_exchange_token, client_secret, access_token ->
                               a long-lived Threads token (60 days)
    GET  B/refresh_access_token  grant_type=th_refresh_token, access_token (long-lived, at
                               least a day old) -> a new long-lived token

Graph and Threads [docs]; the token comes as `access_token` (query or body) or in
`Authorization: OAuth|Bearer`. Parameters may come in the query, a form or JSON.

    GET  B/me                  the user, the Page (Page token) or the Threads profile
    GET  B/me/accounts         the user's Pages: id, name, access_token (a Page token; from a
                               long-lived user token it never expires), tasks,
                               instagram_business_account {id, username}
    POST B/{page}/feed         message, link, attached_media[i]={"media_fbid"} -> {"id":
                               "{page}_{post}"}; needs a Page token (else 403 #200)
    POST B/{page}/photos       url (fetched), message, published=false -> {"id"} (for
                               attached_media) or {"id", "post_id"}
    POST B/{page}/videos       file_url (fetched), description, title -> {"id": video}; the
                               post is "{page}_{video}"
    POST B/{ig}/media          a container: image_url | video_url (+ media_type VIDEO, REELS,
                               STORIES, cover_url, share_to_feed, caption), is_carousel_item;
                               or media_type=CAROUSEL&children=a,b (2-10) -> {"id"}
    POST B/{tu}/threads        media_type TEXT | IMAGE | VIDEO | CAROUSEL (2-20 children),
                               text, image_url | video_url, reply_to_id, reply_control
    GET  B/{container}         Instagram: {"status_code"} IN_PROGRESS, FINISHED, ERROR
                               (+ "status": "Error: .."), PUBLISHED; Threads: {"status",
                               "error_message"?}
    POST B/{ig}/media_publish, B/{tu}/threads_publish  creation_id -> {"id"}. Not FINISHED:
                               400 code 9007 subcode 2207027 (not ready); ERROR: 400 #100
                               subcode 2207001; already published: 400 #100 subcode 2207008
                               [chosen]; over the day's quota: 400 code 9 subcode 2207042
    GET  B/{ig}/content_publishing_limit, B/{tu}/threads_publishing_limit  {"data":
                               [{"quota_usage", "config": {"quota_total", "quota_duration"}}]}
                               (100 and 250 posts per rolling 24 h by default; replies free)
    GET  B/{ig}/media, B/{tu}/threads, B/{tu}/replies, B/{page}/feed  newest first, `fields`
    GET  B/{media}             fields: permalink, permalink_url, shortcode, caption, text,
                               message, media_type, timestamp, created_time

Media are fetched from their URL in the background while the container is IN_PROGRESS; a
container turns FINISHED `processing_s` after its files arrived, ERROR when one cannot be
fetched. The simulator fetches only from `fetch_networks` (loopback by default); any other
address fails as a URL Meta cannot reach does. Page photos and videos are fetched before the
answer.

Errors are Graph's shape: {"error": {"message", "type", "code", "error_subcode"?,
"is_transient", "fbtrace_id"}}: 190 (subcode 463) for an unknown or expired token, 100 for a
bad parameter, 200 for a node the token may not act for.

Faults apply to publishing calls (media_publish, threads_publish, feed, photos, videos):
rate_limit (#4, transient), unavailable (500 #2, transient), timeout (held, then as
unavailable), rejected (#100), error_after_create (published, then 500 #1 transient),
lost_response (published, the answer held `hang_s`).

Control API (see control.py): /_sim/config (+ processing_s, fetch_timeout_s, fetch_networks,
instagram_quota, threads_quota, short_token_ttl_s, long_token_ttl_s), /_sim/script,
/_sim/stats, /_sim/reset, POST /_sim/tokens, POST /_sim/age-tokens, POST /_sim/pages,
GET /_sim/published[?host=], GET /_sim/containers; config also takes redirect_uris.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from herald.sim.control import serve
from herald.sim.meta.config import DEFAULT_USER, MetaConfig, MetaPage, MetaUser
from herald.sim.meta.control import CONTROL_ROUTES
from herald.sim.meta.graph import read, write
from herald.sim.meta.http import GraphError, graph_error
from herald.sim.meta.oauth import (
    consent_decision,
    consent_page,
    graph_access_token,
    threads_access_token,
    threads_exchange,
    threads_refresh,
)
from herald.sim.meta.state import MetaSim

__all__ = [
    "DEFAULT_USER",
    "MetaConfig",
    "MetaPage",
    "MetaSim",
    "MetaUser",
    "create_meta_app",
    "serve_meta",
]


def _versioned(path: str, endpoint: object, methods: list[str]) -> list[Route]:
    return [
        Route(path, endpoint, methods=methods),  # type: ignore[arg-type]
        Route("/{version:str}" + path, endpoint, methods=methods),  # type: ignore[arg-type]
    ]


def create_meta_app(config: MetaConfig | None = None) -> Starlette:
    """A fresh simulator; its state is `app.state.meta` (a MetaSim)."""
    app = Starlette(
        routes=[
            *CONTROL_ROUTES,
            *_versioned("/dialog/oauth", consent_page, ["GET"]),
            *_versioned("/dialog/oauth", consent_decision, ["POST"]),
            Route("/oauth/authorize", consent_page, methods=["GET"]),
            Route("/oauth/authorize", consent_decision, methods=["POST"]),
            *_versioned("/oauth/access_token", graph_access_token, ["GET"]),
            *_versioned("/oauth/access_token", threads_access_token, ["POST"]),
            *_versioned("/access_token", threads_exchange, ["GET"]),
            *_versioned("/refresh_access_token", threads_refresh, ["GET"]),
            Route("/{path:path}", read, methods=["GET"]),
            Route("/{path:path}", write, methods=["POST"]),
        ],
        exception_handlers={GraphError: graph_error},
    )
    app.state.meta = MetaSim(config or MetaConfig())
    return app


def serve_meta(host: str, port: int, config: MetaConfig | None = None) -> None:
    """Run the simulator until interrupted (`herald sim meta`)."""
    serve(create_meta_app(config), host, port)
